"""Who is asking and what they may see: principals and visibility rules, credentials
(passwords, API and feed tokens, sessions), attendee links and media grants.

Imports ``models``, ``errors`` and ``i18n``; never Starlette (the request side is ``web.auth``).
"""
