"""The bench platform as its clients see it.

``urls`` (where requests go), ``credentials`` (the saved session), ``client`` (one httpx
client: timeouts, bounded retries), ``api`` (the routes, the login exchange), ``errors``
(the HTTP error tree), ``results`` (a platform run scored by the engine), ``schemas`` (the
API's shapes, shared with ``mesocosm_server``). Click-free, so the CLI, the pytest plugin
and scripts share it.
"""
