"""numba's ``njit``, loaded on first use, with a disk cache that survives damaged files.

Lazy: importing numba and initialising its compiler take about 0.4 s, more
than importing the rest of the package. :func:`njit` therefore returns a
:class:`LazyDispatcher` that holds the Python function and its options;
numba is imported, and every such function of the package becomes a real
numba dispatcher, at the first call of any of them or the first generated
kernel module (:func:`materialise`). The module globals that refer to a lazy
function are then rebound to its dispatcher, so that numba, compiling a
caller, sees dispatchers it can type and inline. Functions decorated after
that are compiled as usual. ``import sklearn_losses`` and building
estimators and losses import no numba at all.

Damaged cache: numba keeps each cached function as an index file (``.nbi``)
and data files (``.nbc``) and unpickles them when the function is first
called. A damaged file (a truncated write, a disk error, garbage) makes that
unpickling raise, and every later run fails the same way until the user
deletes the cache by hand. Every jitted function of this package (and of the
generated kernel modules) is decorated through :func:`njit` here, which gives
its cache a file handler that treats a damaged entry as missing: it is
deleted, the function is recompiled (and cached again), and one
:class:`KernelCacheWarning` names the file. numba writes its files atomically
(a temporary file renamed into place), so concurrent processes see either the
old or the new entry.

Only this package's functions are affected: numba's own classes are not
patched.
"""

import functools
import os
import sys
import threading
import warnings

__all__ = ["DISABLE_JIT", "KernelCacheWarning", "LazyDispatcher", "harden_cache", "materialise", "njit",
           "on_materialise"]


def _disable_jit():
    """numba's own reading of ``NUMBA_DISABLE_JIT`` (an integer, 0 when unset), without importing numba."""
    try:
        return bool(int(os.environ.get("NUMBA_DISABLE_JIT", "0") or 0))
    except ValueError:
        import numba  # numba's config reports the bad value its own way

        return bool(numba.config.DISABLE_JIT)


#: Whether numba's JIT is off (``NUMBA_DISABLE_JIT=1``): jitted functions then run as Python.
DISABLE_JIT = _disable_jit()


class KernelCacheWarning(UserWarning):
    """A compiled-kernel cache entry was damaged or the cache directory is unusable (the kernels still work)."""


#: What reading a damaged file raises: unpickling garbage can raise nearly anything (UnpicklingError,
#: OverflowError, MemoryError, SystemError, ...) or even succeed with an object of the wrong kind, so
#: every ``Exception`` but an ``OSError`` (a file that cannot be read, left to numba) counts, and a
#: payload that is not a tuple or does not rebuild is damage too.
_DAMAGE = Exception

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


_repairing_classes = None


def _repairing_classes_():
    """numba's cache file and compile-result handlers, reading a damaged entry as a missing one (and deleting it)."""
    global _repairing_classes
    if _repairing_classes is None:
        from numba.core.caching import CompileResultCacheImpl, IndexDataCacheFile

        class _RepairingCacheFile(IndexDataCacheFile):
            _last_data_path = None

            def _load_index(self):
                try:
                    overloads = super()._load_index()
                    if not isinstance(overloads, dict):
                        raise TypeError(f"the index holds a {type(overloads).__name__}, not a dict")
                    return overloads
                except OSError:  # not damage: numba's own handling (a missing index is an empty one)
                    raise
                except _DAMAGE as error:
                    _discard(self._index_path, error)
                    return {}

            def _load_data(self, name):
                path = self._data_path(name)
                try:
                    payload = super()._load_data(name)
                    if not isinstance(payload, tuple):
                        raise TypeError(f"the data file holds a {type(payload).__name__}, not a tuple")
                except OSError:
                    raise
                except _DAMAGE as error:
                    _discard(path, error)
                    raise OSError("damaged cache entry") from error  # load() reads an OSError as a missing entry
                self._last_data_path = path
                return payload

        class _RepairingImpl(CompileResultCacheImpl):
            _repair_file = None

            def rebuild(self, target_context, payload):
                try:
                    return super().rebuild(target_context, payload)
                except _DAMAGE as error:  # a payload that unpickled but is not a compile result
                    path = getattr(self._repair_file, "_last_data_path", None)
                    if path is not None:
                        _discard(path, error)
                    return None  # a missing entry: the function is compiled and saved again

        _repairing_classes = (IndexDataCacheFile, _RepairingCacheFile, CompileResultCacheImpl, _RepairingImpl)
    return _repairing_classes


def harden_cache(dispatcher):
    """Give a cached numba dispatcher the repairing cache handlers (no-op without a disk cache)."""
    cache = getattr(dispatcher, "_cache", None)
    cache_file = getattr(cache, "_cache_file", None)
    if cache_file is not None:
        file_class, repairing_file, impl_class, repairing_impl = _repairing_classes_()
        if type(cache_file) is file_class:
            cache_file.__class__ = repairing_file
        impl = getattr(cache, "_impl", None)
        if type(impl) is impl_class:
            impl.__class__ = repairing_impl
            impl._repair_file = cache_file
    return dispatcher


class LazyDispatcher:
    """A function to be compiled by numba, before numba is loaded (see the module's docstring).

    Calling it, or reading any attribute of a numba dispatcher from it,
    loads numba first (:func:`materialise`). ``py_func`` is the Python
    function, as on a numba dispatcher.
    """

    def __init__(self, func, options):
        functools.update_wrapper(self, func)
        self.py_func = func
        self._options = options
        self._dispatcher = None

    @property
    def dispatcher(self):
        """The numba dispatcher (numba loaded and the package's functions compiled lazily from now on)."""
        if self._dispatcher is None:
            materialise()
        return self._dispatcher

    def __call__(self, *args, **kwargs):
        return self.dispatcher(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_options", "_dispatcher", "py_func"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __reduce__(self):  # by reference, as numba pickles module-level dispatchers
        return _by_name, (self.py_func.__module__, self.py_func.__qualname__)

    def __repr__(self):
        return f"<lazily jitted function {self.py_func.__module__}.{self.py_func.__qualname__}>"


def _by_name(module, qualname):
    obj = sys.modules.get(module) or __import__(module, fromlist=["_"])
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


_pending = []  # LazyDispatchers not materialised yet
_hooks = []  # run once numba is imported, before anything is compiled
_state_lock = threading.RLock()
_ready = False


def on_materialise(hook):
    """Run ``hook()`` when numba is loaded (immediately if it already is); for definitions that need numba."""
    with _state_lock:
        if _ready:
            hook()
        else:
            _hooks.append(hook)
    return hook


def materialise():
    """Import numba and turn every lazily jitted function of the package into a numba dispatcher.

    Idempotent and thread-safe. The package's module globals that refer to a
    :class:`LazyDispatcher` are rebound to its dispatcher (callers compiled
    by numba must see dispatchers).
    """
    global _ready
    if _ready:
        return
    with _state_lock:
        if _ready:
            return
        import numba
        from numba.extending import typeof_impl

        @typeof_impl.register(LazyDispatcher)
        def _typeof_lazy(value, context):  # a lazy function passed as an argument
            return typeof_impl(value.dispatcher, context)

        for hook in _hooks:
            hook()
        _hooks.clear()
        for lazy in _pending:
            lazy._dispatcher = harden_cache(numba.njit(**lazy._options)(lazy.py_func))
        replaced = {id(lazy): lazy._dispatcher for lazy in _pending}
        _pending.clear()
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "sklearn_losses" or name.startswith("sklearn_losses.")):
                continue
            namespace = vars(module)
            for key, value in list(namespace.items()):
                if type(value) is LazyDispatcher and id(value) in replaced:
                    namespace[key] = replaced[id(value)]
        _ready = True


def njit(*args, **options):
    """``numba.njit`` (same arguments), compiled lazily; cached functions get the repairing cache.

    Before numba is loaded this returns a :class:`LazyDispatcher`; after, a
    numba dispatcher. With ``NUMBA_DISABLE_JIT=1`` it returns the function
    itself, as numba does.
    """
    if args and callable(args[0]) and not options:
        return njit()(args[0])
    if args:
        raise TypeError("sklearn_losses._jit.njit takes keyword options only (no signatures).")

    def wrap(func):
        if DISABLE_JIT:
            return func
        with _state_lock:
            if _ready:
                import numba

                return harden_cache(numba.njit(**options)(func))
            lazy = LazyDispatcher(func, options)
            _pending.append(lazy)
            return lazy

    return wrap
