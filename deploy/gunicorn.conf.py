"""gunicorn settings for iamconsole: `gunicorn -c deploy/gunicorn.conf.py iamconsole.wsgi`.

The logger class scrubs signatures, security tokens, secrets and passwords from the access
log (V1 calls carry `Signature` and `SecurityToken` in the query string) and the error log.
Other settings can be given on the command line or in GUNICORN_CMD_ARGS as usual.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
errorlog = "-"
logger_class = "iamconsole.logscrub.ScrubbingGunicornLogger"
