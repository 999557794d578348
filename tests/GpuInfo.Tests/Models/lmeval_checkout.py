"""lm-evaluation-harness from a checkout: its lm_eval folder made importable whether or not it is installed (its
lm_eval/__init__.py reads its own version, so a checkout not installed gets a stand-in record of one). Shared by
make_loglikelihood_reference.py and benchmarks/peer/lmeval_bootstrap.py. Debian's typing_extensions (4.4) predates
the `deprecated` decorator lm_eval/api/group.py imports; it gets one that marks nothing."""
import importlib.metadata
import os
import sys
import tempfile


def use(root):
    """Puts the checkout at root (the folder holding lm_eval/) first on the import path."""
    try:
        importlib.metadata.version("lm_eval")
    except importlib.metadata.PackageNotFoundError:
        meta = tempfile.mkdtemp()
        os.makedirs(os.path.join(meta, "lm_eval-0.0.dist-info"))
        with open(os.path.join(meta, "lm_eval-0.0.dist-info", "METADATA"), "w") as f:
            f.write("Metadata-Version: 2.1\nName: lm_eval\nVersion: 0.0\n")
        sys.path.insert(0, meta)
    sys.path.insert(0, root)
    import typing_extensions
    if not hasattr(typing_extensions, "deprecated"):
        typing_extensions.deprecated = lambda message, **kwargs: (lambda f: f)
