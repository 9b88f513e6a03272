"""The bench platform as its clients see it: URL resolution and the credentials file.

Click-free, so the CLI, the pytest plugin and scripts share one resolution order.
"""
