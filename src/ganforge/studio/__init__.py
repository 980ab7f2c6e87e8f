"""The studio: watch a GAN learn in the browser, live (``ganforge studio RECIPE|DATAFILE``) or from a run
folder (``ganforge studio RUN``: attach to a training in another process, or replay a finished run).

``frames`` computes what is drawn, ``controller`` is the trainer callback that samples frames and obeys
the page, ``hub`` fans events out to pages, ``watcher`` follows a run folder, ``server`` serves the page
(static files in ``static/``, shipped with the package), and ``session`` puts them together.
"""
