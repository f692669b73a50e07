"""The team server (``mamori serve``): one FastAPI application over the same store and Python API as the
command line. Nothing here is imported by the other commands (a scan does not import FastAPI).

- :mod:`mamori.server.settings`: what the server is started with (no FastAPI import);
- :mod:`mamori.server.app`: :func:`~mamori.server.app.create_app`;
- :mod:`mamori.server.routes`: the one list of routers the application includes;
- :mod:`mamori.server.security`: who is asking (:class:`~mamori.server.security.Principal`) and what they may do;
- :mod:`mamori.server.auth`: sign-in (password, OpenID Connect) and sign-out pages;
- :mod:`mamori.server.api`: the native REST API (``/api/mamori/v1``);
- :mod:`mamori.server.background`: work run after the response (in-process for the embedded default).
"""
