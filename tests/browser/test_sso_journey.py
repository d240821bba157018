"""A RAM user signs in through the account's SAML identity provider in Chromium: the console
sends an AuthnRequest, a real pysaml2 IdP (served on a loopback port) answers with a signed
response, and the browser lands in the console."""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from federation.saml import user_sp
from federation.user_sso import user_sso_set
from tests.browser.conftest import ARTIFACTS
from tests.conftest import make_tenant
from tests.federation.saml_idp import TestSamlIdp

pytestmark = [pytest.mark.browser, pytest.mark.saml, pytest.mark.django_db(transaction=True)]


def serve_idp(holder: dict, sp, subject: str) -> ThreadingHTTPServer:
    """The IdP's sign-in endpoint on a loopback port; holder["idp"] is set once it is known."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            idp = holder["idp"]
            request_id = idp.request_id(sp, query["SAMLRequest"][0])
            response = idp.response(sp, subject=subject, in_response_to=request_id)
            relay = query.get("RelayState", [""])[0]
            page = (
                "<!doctype html><title>Test IdP</title><h1>Test identity provider</h1>"
                f"<p>Signed in as {html.escape(subject)}.</p>"
                f'<form method="post" action="{html.escape(sp.acs_url)}">'
                f'<input type="hidden" name="SAMLResponse" value="{response}">'
                f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">'
                '<button id="idp-continue" type="submit">Continue to iamconsole</button></form>'
            )
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_user_sso_through_the_test_idp_ends_in_the_console(live_server, browser, settings):
    settings.IAM_PUBLIC_URL = live_server.url
    tenant = make_tenant("initech")
    tenant.make_user("milton")
    sp = user_sp(tenant.account.uid)
    holder: dict = {}
    server = serve_idp(holder, sp, "milton")
    idp = TestSamlIdp(sso_url=f"http://127.0.0.1:{server.server_address[1]}/saml/sso")
    holder["idp"] = idp
    user_sso_set(actor=tenant.root_principal, enabled=True, metadata=idp.metadata)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/console/login")
        page.click("text=Sign in with single sign-on")
        page.fill("#id_account", "initech")
        page.click("button:has-text('Continue')")
        page.wait_for_selector("#idp-continue")
        page.screenshot(path=str(ARTIFACTS / "30-sso-idp.png"), full_page=True)
        page.click("#idp-continue")
        page.wait_for_url(f"{live_server.url}/console/")
        assert "milton@initech" in page.text_content("header")
        page.screenshot(path=str(ARTIFACTS / "31-sso-console.png"), full_page=True)
        context.close()
    finally:
        server.shutdown()
