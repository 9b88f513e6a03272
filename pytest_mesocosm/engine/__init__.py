"""The engine: one config, one episode loop, one session that runs many, traces and export.

Every front end (the pytest plugin, ``mesocosm run local``, the server's worker) runs
episodes through these modules. Nothing here imports pytest, click or the platform.
"""
