"""The HTTP side: the app, the URL table (every route named), URL building, middleware, error
pages, the JSON API (``views/api``) and the pages (``views/pages``), static files.

May import everything below it (services and their dependencies); nothing imports ``web`` but
``cli``.
"""
