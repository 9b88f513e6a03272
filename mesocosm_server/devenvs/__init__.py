"""Developer environments: a submitted repository becomes an isolated, running adapter.

``sources`` checks and clones the repository, ``install`` finds and validates its
manifest and builds its own virtualenv, ``isolation`` says what an adapter process may
see and use, ``adapters`` starts adapters on demand, ``onboarding`` is the durable job
that ties these together, ``records`` turns rows into the API's shapes.
"""
