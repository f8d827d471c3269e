"""Mutation fuzzing of the function through its real entry point (``make fuzz``).

Words used here (one meaning each, in every module of this package):

- *seed*: a request body the project already knows to be meaningful: the ``input`` of a golden
  fixture (``tests/fixtures/<source>/``) or a file of ``examples/``, with the route it is posted
  to and the environment its fixture runs with. Personal values in it are replaced by *canaries*.
- *canary*: a distinctive personal value (``kanarie000042@fuzz.example``, a phone whose national
  number is ``699000042`` …) planted where a source reads e-mails, phones, external ids, names,
  zip codes or street addresses; its *token* is the part searched for in the answer.
- *configuration*: a named set of environment variables over the complete dry-run base (every
  event source id set, ``DRY_RUN=true``), chosen because it changes which code runs.
- *case*: one body to post: (fuzz seed, index) → route, configuration and bytes, the same on
  every run (:func:`tests.fuzz.mutators.case`).
- *invariant*: what every answer to every case must satisfy (:mod:`tests.fuzz.harness`).
- *finding*: a case that breaks an invariant; its *class* (signature) is the exception type and
  the project line that raised it, or the invariant and where it broke. A *reproducer* is the
  smallest body and configuration still in that class.
"""
