"""Tools run from the checkout (the build, the security scan); not part of the package."""
