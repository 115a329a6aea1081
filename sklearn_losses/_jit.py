"""numba's ``njit`` with a disk cache that survives damaged files.

numba keeps each cached function as an index file (``.nbi``) and data files
(``.nbc``) and unpickles them when the function is first called. A damaged
file (a truncated write, a disk error, garbage) makes that unpickling raise,
and every later run fails the same way until the user deletes the cache by
hand. Every jitted function of this package (and of the generated kernel
modules) is decorated through :func:`njit` here, which gives its cache a file
handler that treats a damaged entry as missing: it is deleted, the function is
recompiled (and cached again), and one :class:`KernelCacheWarning` names the
file. numba writes its files atomically (a temporary file renamed into
place), so concurrent processes see either the old or the new entry.

Only this package's functions are affected: numba's own classes are not
patched.
"""

import os
import pickle
import threading
import warnings

import numba
from numba.core.caching import IndexDataCacheFile

__all__ = ["KernelCacheWarning", "harden_cache", "njit"]


class KernelCacheWarning(UserWarning):
    """A compiled-kernel cache entry was damaged or the cache directory is unusable (the kernels still work)."""


#: What unpickling a damaged file raises.
_DAMAGE = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
           KeyError, MemoryError, UnicodeDecodeError)

_warned = set()
_warned_lock = threading.Lock()


def warn_once(key, message):
    """Issue ``message`` as a :class:`KernelCacheWarning` once per process and ``key``."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, KernelCacheWarning, stacklevel=3)


def _discard(path, error):
    try:
        os.unlink(path)
    except OSError:
        pass
    warn_once(("damaged", os.path.dirname(path)),
              f"sklearn_losses: a damaged compiled-kernel cache file was discarded and its kernels are compiled "
              f"again ({path}: {type(error).__name__}: {error}). Other damaged entries in that directory are "
              "repaired the same way, without a further warning.")


class _RepairingCacheFile(IndexDataCacheFile):
    """numba's index/data cache file, reading a damaged file as a missing one (and deleting it)."""

    def _load_index(self):
        try:
            return super()._load_index()
        except _DAMAGE as error:
            _discard(self._index_path, error)
            return {}

    def _load_data(self, name):
        try:
            return super()._load_data(name)
        except _DAMAGE as error:
            _discard(self._data_path(name), error)
            raise OSError("damaged cache entry") from error  # load() reads an OSError as a missing entry


def harden_cache(dispatcher):
    """Give a cached numba dispatcher the repairing cache file handler (no-op without a disk cache)."""
    cache = getattr(dispatcher, "_cache", None)
    cache_file = getattr(cache, "_cache_file", None)
    if type(cache_file) is IndexDataCacheFile:
        cache_file.__class__ = _RepairingCacheFile
    return dispatcher


def njit(*args, **options):
    """``numba.njit`` (same arguments); cached functions get the repairing cache (:func:`harden_cache`)."""
    if args and callable(args[0]) and not options:
        return harden_cache(numba.njit(args[0]))
    decorator = numba.njit(*args, **options)

    def wrap(func):
        return harden_cache(decorator(func))

    return wrap
