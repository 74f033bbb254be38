"""A stateful emulator of the DataRobot Custom Models and Custom Jobs API.

It shares no code with ``controller`` (it is the other side of the wire). The package:

* ``server`` (``EmulatorServer``: waitress, threads, dropped connections) and ``cli``
  (``dr-emulator``) serve ``app`` (the Flask app: auth, faults, stats, error answers);
* ``core`` (``Emulator``: store, faults, stats, settings, state file), ``store`` (the
  documents and the lock), ``seeding`` (users, groups, org, environments), ``faults``,
  ``stats``, ``statuses`` (async work);
* ``validation`` and ``bodies`` (request bodies checked against the reference's schemas),
  ``paging`` (list envelopes), ``views`` (cached API views), ``access`` (roles),
  ``versioning`` (how versions are made), ``domain/`` (pure rules: file sets,
  requirements, runtime parameters);
* ``routes/`` (one module per concept; every route of the reference, plus a few real
  DataRobot routes the reference omits, plus the ``/__emulator__/`` admin routes).
"""
