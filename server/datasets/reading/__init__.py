"""Reading a dataset's rows as people ask for them: pages, profiles, charts and exports. These
modules only read; every change to a dataset goes through :mod:`..cleaning` or
:mod:`..loading`."""
