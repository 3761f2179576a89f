"""Who is asking: signed agent tokens that expire, role tokens that rotate, single-use tickets.

``tokens`` holds the formats (pure functions), ``policy`` the access file an operator edits
through ``assist access`` (role tokens, revoked agents), ``gate`` the running server's view of
both. Nothing here knows about HTTP: assist.web.auth takes credentials out of requests.
"""
