#pragma once

// The PyPy warm-start zygote (docs/warm-starts.md, "PyPy"): PyPy cannot be embedded and
// split into "initialise" and "run" from C, so its zygote is the interpreter itself,
// started as `pypy3.9 <the run's options> -c <this source> /scripts/script.py <args>`.
// It speaks zygote_protocol.hpp on fd 3: reports ready (its CPU so far), waits for the
// go, sets the step's limits on itself, puts the run's descriptors on 0-2, and then runs
// the program as PyPy's own app_main.py runs `pypy3.9 <options> script.py`: the same
// sys.argv, a fresh __main__ with the same names and values, the file read and compiled
// the same way. Its frames are hidden (__pypy__.hidden_applevel; the -c module frame by
// marking its code object), so an exception leaves the program exactly as it would cold:
// into app_main's own handling (traceback, SystemExit, KeyboardInterrupt, exit status).
// The modules it imported (_socket, _cffi_backend) are removed from
// sys.modules before the program's first line. A hang-up or a malformed go: exit 0,
// nothing run; a failure to set the limits: exit 121, nothing run.
// Kept ASCII: it travels in argv.

namespace integr8scode {

inline constexpr const char kPypyZygoteBootstrap[] = R"py(
import sys, __pypy__
__pypy__.hidden_applevel(type(lambda: 0)(sys._getframe().f_code, {}))


@__pypy__.hidden_applevel
def _zygote():
    import posix, time
    before = set(sys.modules)
    import _socket, _cffi_backend as cffi
    # setrlimit through libc (the `resource` module is a cffi extension whose loading
    # initialises cpyext: 2-3 ms, and state a cold start lacks). Linux's numbers.
    rlimit = cffi.new_struct_type('struct rlimit')
    ulong = cffi.new_primitive_type('unsigned long')
    cffi.complete_struct_or_union(rlimit, [('rlim_cur', ulong, -1), ('rlim_max', ulong, -1)])
    rlimit_p = cffi.new_pointer_type(rlimit)
    setrlimit = cffi.load_library(None).load_function(
        cffi.new_function_type((cffi.new_primitive_type('int'), rlimit_p),
                               cffi.new_primitive_type('int'), False), 'setrlimit')
    control = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET, 0, 3)
    cpu_us = round(time.process_time() * 1000000)
    try:
        control.send(cpu_us.to_bytes(8, sys.byteorder, signed=True))
        data, ancillary, flags, _ = control.recvmsg(40, _socket.CMSG_SPACE(12), 0x40000000)
    except OSError:
        posix._exit(121)
    if (len(data) != 40 or flags & _socket.MSG_CTRUNC or len(ancillary) != 1 or
            ancillary[0][0] != _socket.SOL_SOCKET or ancillary[0][1] != _socket.SCM_RIGHTS or
            len(ancillary[0][2]) != 12):
        posix._exit(0)
    fds = [int.from_bytes(ancillary[0][2][i:i + 4], sys.byteorder) for i in (0, 4, 8)]
    go = [int.from_bytes(data[i:i + 8], sys.byteorder) for i in range(0, 40, 8)]
    if go[0]:
        # FSIZE, NOFILE, NPROC, CPU (SIGXCPU, then SIGKILL), CORE, MSGQUEUE
        for which, soft, hard in ((1, go[1], go[1]), (7, go[2], go[2]), (6, go[3], go[3]),
                                  (0, go[4], go[4] + 1), (4, 0, 0), (12, 0, 0)):
            if setrlimit(which, cffi.newp(rlimit_p, [soft, hard])) != 0:
                posix._exit(121)
    for target in (0, 1, 2):
        posix.dup2(fds[target], target)
    for fd in fds:
        if fd > 2:
            posix.close(fd)
    control.close()
    for name in set(sys.modules) - before:
        del sys.modules[name]
    del _socket, cffi, control, setrlimit, data, ancillary

    sys.argv[:] = sys.argv[1:]
    from os.path import abspath
    from _frozen_importlib_external import SourceFileLoader
    from _ast import PyCF_ACCEPT_NULL_BYTES
    filename = abspath(sys.argv[0])
    main = type(sys)('__main__')
    main.__loader__ = sys.__loader__
    main.__builtins__ = __builtins__
    main.__annotations__ = {}
    sys.modules['__main__'] = main
    main.__file__ = filename
    main.__cached__ = None
    main.__loader__ = SourceFileLoader('__main__', sys.argv[0])
    try:
        with open(filename, 'rb') as f:
            source = f.read()
    except IOError as e:
        sys.stderr.write("%s: can't open file %s: [Errno %d] %s\n" %
                         (sys.executable, filename, e.errno, e.strerror))
        raise SystemExit(e.errno)
    return compile(source, filename, 'exec', PyCF_ACCEPT_NULL_BYTES), main.__dict__


# Run from this (hidden) frame, not from a function: as deep in the stack as app_main's
# own execfile, so that the recursion limit is reached at the same depth as cold.
_code, _namespace = _zygote()
exec(_code, _namespace)
)py";

}  // namespace integr8scode
