# gdb support for sealed bottles (runbottle(8), DEBUGGING). Installed in gdb's system
# gdbinit directory, so a plain `gdb -ex run bottle/bin/prog` finds the bottle's libraries.
#
# Why gdb needs help: at the exec stop gdb reads /proc/PID/auxv and sets its shared-library
# breakpoints, but runbottle runs first: under the binfmt dispatch the kernel exec'd it, so the
# auxv is runbottle's (its AT_ENTRY, no AT_BASE); under the PT_INTERP dispatch AT_BASE is
# runbottle's, not the loader's. gdb never reads the auxv again. runbottle maps the program and the loader itself and,
# with the program's auxv installed, calls its debugger rendezvous (the "runbottle" ELF note
# gives the offset from its entry point). Stopping there, this script makes gdb re-read the
# auxv and set its shared-library breakpoints again, then continues; the user sees no stop.
import os
import struct

import gdb

AT_PHDR, AT_EXECFD, AT_ENTRY, AT_BASE = 3, 2, 9, 7
PT_INTERP, PT_NOTE, PT_PHDR = 3, 4, 6
NT_RUNBOTTLE_DEBUG_STATE = 1
BOTTLE_NOTE_NAME = b"BOTTLE\0"
# gdb (13 here) cannot follow a program its loader runs in explicit mode, even when started as
# `gdb --args ld.so PROGRAM`: main's symbols and the libraries stay unknown.
EXPLICIT_MODE = (
    "runbottle: %s runs through its loader's explicit mode, which gdb cannot follow: this exec "
    "got no CAP_CHECKPOINT_RESTORE. Under a tracer without CAP_SYS_PTRACE (gdb run by an "
    "ordinary user) the kernel grants no file capability. Attach to the running program "
    "instead (gdb -p PID), or run gdb as root.\n")
# A remote target, a process gone, a file unreadable: gdb keeps its own view.
_NO_VIEW = (OSError, gdb.error, struct.error)


def _read(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


def _elf_header(path):
    """(class 1/2, '<' or '>', header bytes), or None for a file that is not ELF."""
    head = _read(path, 0, 64)
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    return head[4], "<" if head[5] == 1 else ">", head


def _program_headers(path):
    """Yields (p_type, p_offset, p_vaddr, p_filesz) for every program header of the file."""
    elf = _elf_header(path)
    if elf is None:
        return
    cls, order, head = elf
    if cls == 2:
        phoff, = struct.unpack_from(order + "Q", head, 32)
        phentsize, phnum = struct.unpack_from(order + "HH", head, 54)
    else:
        phoff, = struct.unpack_from(order + "I", head, 28)
        phentsize, phnum = struct.unpack_from(order + "HH", head, 42)
    table = _read(path, phoff, phentsize * min(phnum, 64))
    for i in range(len(table) // phentsize):
        entry = table[i * phentsize:(i + 1) * phentsize]
        if cls == 2:
            ptype, _, offset, vaddr, _, filesz = struct.unpack_from(order + "IIQQQQ", entry, 0)
        else:
            ptype, offset, vaddr, _, filesz = struct.unpack_from(order + "IIIII", entry, 0)
        yield ptype, offset, vaddr, filesz


def _notes(path):
    """Yields (name, type, desc, byte order) for every note in the file's PT_NOTE segments."""
    elf = _elf_header(path)
    if elf is None:
        return
    order = elf[1]
    for ptype, offset, _, size in _program_headers(path):
        if ptype != PT_NOTE:
            continue
        data = _read(path, offset, min(size, 1 << 16))
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, ntype = struct.unpack_from(order + "III", data, pos)
            name_end = pos + 12 + namesz
            desc = pos + 12 + ((namesz + 3) & ~3)
            yield data[pos + 12:name_end], ntype, data[desc:desc + descsz], order
            pos = desc + ((descsz + 3) & ~3)


def _auxv(pid):
    """The process's auxv as a dict; its word size is that of the ELF file it runs."""
    elf = _elf_header("/proc/%d/exe" % pid)
    if elf is None:
        return {}
    pair = elf[1] + ("QQ" if elf[0] == 2 else "II")
    data = _read("/proc/%d/auxv" % pid, 0, 1 << 12)
    return dict(struct.iter_unpack(pair, data[:len(data) - len(data) % struct.calcsize(pair)]))


def _rendezvous_offset(interpreter):
    for name, ntype, desc, order in _notes(interpreter):
        if name == b"runbottle\0" and ntype == NT_RUNBOTTLE_DEBUG_STATE and len(desc) == 8:
            return struct.unpack(order + "q", desc)[0]
    return None


def _bottle_loader_dir(program):
    """The directory of the bottle's loader, from the BOTTLE note of a sealed program."""
    for name, ntype, desc, order in _notes(program):
        if name == BOTTLE_NOTE_NAME and len(desc) >= 8:
            length, = struct.unpack_from(order + "I", desc, 4)
            loader = desc[8:8 + length].decode(errors="surrogateescape")
            return os.path.dirname(os.path.join(os.path.dirname(os.path.realpath(program)), loader))
    return None


def _reread_auxv():
    """Makes gdb re-read the auxv and set its shared-library breakpoints again: `file` drops the
    cached auxv and relocates the program by the new AT_ENTRY; setting sysroot (to its own value)
    reruns the shared-library startup that the exec stop ran."""
    confirm = gdb.parameter("confirm")
    gdb.execute("set confirm off", to_string=True)
    try:
        gdb.execute("file " + gdb.current_progspace().filename, to_string=True)
        gdb.execute("set sysroot " + (gdb.parameter("sysroot") or ""), to_string=True)
    finally:
        gdb.execute("set confirm " + ("on" if confirm else "off"), to_string=True)


def _name_loader(pid, auxv):
    """The loaders name their own link_map entry after the program's PT_INTERP string in
    memory, which names runbottle; gdb would then read runbottle's symbols for the loader. The
    loader has not run yet: write its path there (ptrace writes ignore the page's protection,
    and the file keeps runbottle's). runbottle leaves this to the debugger: done on every exec
    it would cost two mprotect calls and a page copy."""
    program = gdb.current_progspace().filename
    headers = list(_program_headers(program))
    phdr = next((h for h in headers if h[0] == PT_PHDR), None)
    interp = next((h for h in headers if h[0] == PT_INTERP), None)
    loader = _mapped_file(pid, auxv[AT_BASE])
    if phdr is None or interp is None or loader is None or AT_PHDR not in auxv:
        return
    name = loader.encode(errors="surrogateescape") + b"\0"
    if len(name) <= interp[3]:
        address = auxv[AT_PHDR] - phdr[2] + interp[2]
        gdb.selected_inferior().write_memory(address, name)


class _RunbottleRendezvous(gdb.Command):
    """Internal: runs when runbottle reaches its debugger rendezvous (see gdb/runbottle.py)."""

    def __init__(self):
        super().__init__("runbottle-rendezvous", gdb.COMMAND_NONE)

    def invoke(self, argument, from_tty):
        pid = gdb.selected_inferior().pid
        if not pid:
            return
        # In explicit mode (no capability) AT_BASE stays 0 and the auxv is the loader's: gdb
        # would mistake the loader for the program, so leave its view alone and say why.
        auxv = _auxv(pid)
        if auxv.get(AT_BASE, 0) != 0:
            _name_loader(pid, auxv)
            _reread_auxv()
        else:
            gdb.write(EXPLICIT_MODE % gdb.current_progspace().filename, gdb.STDERR)


def _search_beside_loader(program):
    """The loader must be found by name where the program's PT_INTERP path does not exist on
    this host (a musl bottle on a glibc system): gdb looks beside it in the bottle too."""
    loader_dir = _bottle_loader_dir(program)
    if loader_dir:
        paths = gdb.parameter("solib-search-path") or ""
        if loader_dir not in paths.split(":"):
            gdb.execute("set solib-search-path " + ":".join(p for p in (paths, loader_dir) if p),
                        to_string=True)


def _mapped_file(pid, address):
    """The file mapped at address in the process, from /proc/PID/maps."""
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            fields = line.split(None, 5)
            low, high = (int(x, 16) for x in fields[0].split("-"))
            if low <= address < high and len(fields) == 6 and fields[5].startswith("/"):
                return fields[5].rstrip("\n")
    return None


def _runbottle_entry(pid, auxv):
    """(runbottle's file, its entry point) at an exec stop where the kernel ran it: as the
    binfmt_misc interpreter (AT_EXECFD is there, AT_ENTRY is runbottle's), or as the program's
    PT_INTERP (AT_BASE is runbottle's base)."""
    if AT_EXECFD in auxv and AT_ENTRY in auxv:
        return "/proc/%d/exe" % pid, auxv[AT_ENTRY]
    base = auxv.get(AT_BASE, 0)
    path = _mapped_file(pid, base) if base else None
    elf = _elf_header(path) if path else None
    if elf is None or elf[0] != 2:
        return None
    entry, = struct.unpack_from(elf[1] + "Q", elf[2], 24)
    return path, base + entry


def _break_at_rendezvous(pid):
    """At an exec stop where the kernel ran runbottle for a sealed program, a silent internal
    breakpoint at runbottle's rendezvous."""
    auxv = _auxv(pid)
    found = _runbottle_entry(pid, auxv)
    if found is None:
        return
    offset = _rendezvous_offset(found[0])
    if offset is None:
        return
    stop = gdb.Breakpoint("*%#x" % (found[1] + offset), internal=True, temporary=True)
    stop.silent = True
    stop.commands = "runbottle-rendezvous\ncontinue"


def _on_new_objfile(event):
    filename = event.new_objfile.filename or ""
    try:
        if filename == gdb.current_progspace().filename:
            _search_beside_loader(filename)
        elif filename.startswith("system-supplied DSO"):
            # gdb loads the vDSO at every exec stop: the moment to look at what the kernel ran.
            pid = gdb.selected_inferior().pid
            if pid:
                _break_at_rendezvous(pid)
    except _NO_VIEW:
        return


_RunbottleRendezvous()
gdb.events.new_objfile.connect(_on_new_objfile)
# Sourced after the program was loaded (gdb -x runbottle.py PROGRAM): catch up.
if gdb.current_progspace().filename:
    try:
        _search_beside_loader(gdb.current_progspace().filename)
    except _NO_VIEW:
        pass
