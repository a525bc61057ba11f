"""What the web, the CLI and the worker share: every change that touches rows, blobs and the
index together, and every read filtered by access.

No Starlette, no URLs: services take settings, storage and principals, and return objects,
ids and typed results. May import ``access``, ``jobs.queue``, ``search``, ``extract``,
``storage``, ``media``, ``db``, ``models``, ``errors``, ``formats`` and ``settings``.
"""
