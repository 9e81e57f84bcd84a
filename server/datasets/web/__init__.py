"""The datasets' web layer: page routes, the import flow, the JSON API and their forms, and
:mod:`.access`, the one place that loads a dataset for a request and checks the person's access.
Routes stay thin: they read a form, call one domain function, and render."""
