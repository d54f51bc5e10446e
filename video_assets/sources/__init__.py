"""Where events and the video catalog come from: one interface (``interface``), one module per kind of source.

``LandingZone`` (the ``landing`` resource) picks the source from the
configuration; the raw stage and the late-data sensor only call the
interface. Nothing below the asset layer imports this package.
"""
