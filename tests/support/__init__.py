"""What the tests share: real servers, crawl runners, a store of known figures.

Test modules import from here, never from each other; fixtures are in
``tests/conftest.py``.
"""
