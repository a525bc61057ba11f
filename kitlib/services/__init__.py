"""What the web, the CLI and the worker share: every change that touches rows, blobs and the
index together, and every read filtered by access.

No Starlette and no URL written by hand: services take settings, storage and principals, and
return objects, ids and typed results; the paths in their JSON come from ``kitlib.urls``, and
an absolute link from the ``urls.Links`` their caller passes in. May import ``access``,
``jobs.queue``, ``search``, ``extract``, ``storage``, ``media``, ``db``, ``models``,
``errors``, ``formats``, ``urls`` and ``settings``.
"""
