"""Print a .env for local runs (`make run`): DEBUG on, fresh random secrets."""

import base64
import secrets

if __name__ == "__main__":
    print("# Local development settings written by `make run`; see .env.example.")
    print("DEBUG=1")
    print(f"SECRET_KEY={secrets.token_urlsafe(50)}")
    print(f"IAM_ENCRYPTION_KEYS={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
    print("ALLOWED_HOSTS=127.0.0.1,localhost")
    print("IAM_LOGON_DOMAIN=iam.localhost")
