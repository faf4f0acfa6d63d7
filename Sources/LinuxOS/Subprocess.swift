// Running another program and collecting what it prints: the one way binfmt-reg starts a
// process (the status canary, the loader's list mode while bottling). posix_spawn, or fork and
// execve when the child must drop to another user.
import Glibc
import SystemPackage

/// A program to run with stdin on /dev/null and its stdout (and optionally stderr) captured.
public struct Subprocess: Sendable {
    public var path: String
    /// The whole argv, argv[0] included.
    public var argv: [String]
    /// The whole environment, `NAME=value` each.
    public var environment: [String]
    /// Captures stderr too; otherwise the child writes to ours.
    public var capturesStandardError: Bool
    /// Runs it as this uid (and the same gid, no supplementary groups).
    public var user: uid_t?
    /// Kills it when it runs longer than this many seconds.
    public var timeLimit: Int?

    public init(
        path: String, argv: [String], environment: [String], capturesStandardError: Bool = false,
        user: uid_t? = nil, timeLimit: Int? = nil
    ) {
        self.path = path
        self.argv = argv
        self.environment = environment
        self.capturesStandardError = capturesStandardError
        self.user = user
        self.timeLimit = timeLimit
    }

    public struct Outcome: Sendable {
        /// The wait status (exit code << 8, or the signal).
        public var status: Int32
        public var standardOutput: [UInt8]
        public var standardError: [UInt8]

        /// The exit code, or the signal's number when a signal ended it.
        public var exitCode: Int32 { status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f }
    }

    public enum Failure: Error, Sendable, Equatable {
        /// A pipe, /dev/null or the wait failed.
        case setup(call: String, Errno)
        /// The exec failed (or dropping to `user` before it).
        case exec(Errno)
        /// It ran longer than `timeLimit` and was killed.
        case timedOut(seconds: Int)
    }

    /// Runs the program to its end and returns its wait status and output.
    public func run() throws(Failure) -> Outcome {
        var output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        guard Self.pipe(&output) else { throw .setup(call: "pipe", Errno(rawValue: errno)) }
        defer { close(output[0]) }
        if capturesStandardError {
            guard Self.pipe(&errors) else {
                close(output[1])
                throw .setup(call: "pipe", Errno(rawValue: errno))
            }
        }
        defer { if errors[0] >= 0 { close(errors[0]) } }
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let cEnv = environment.map { strdup($0) } + [nil]
        defer { cEnv.forEach { free($0) } }
        let (pid, rc) = user.map { forkExec(cArgs, cEnv, stdout: output[1], stderr: errors[1], user: $0) }
            ?? spawn(cArgs, cEnv, stdout: output[1], stderr: errors[1])
        // Only the child may hold the write ends, or the reads below never see the end.
        close(output[1])
        if errors[1] >= 0 { close(errors[1]) }
        if rc != 0 { throw .exec(Errno(rawValue: rc)) }
        return try collect(pid, from: [output[0], errors[0]])
    }

    /// A pipe whose ends close on exec (Glibc's module has no pipe2).
    private static func pipe(_ ends: inout [Int32]) -> Bool {
        guard Glibc.pipe(&ends) == 0 else { return false }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    private func spawn(
        _ argv: [UnsafeMutablePointer<CChar>?], _ env: [UnsafeMutablePointer<CChar>?], stdout: Int32, stderr: Int32
    ) -> (pid_t, Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        if stderr >= 0 { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, env)
        return (pid, rc)
    }

    /// fork, drop to `user`, execve: posix_spawn cannot change the user. The child calls only
    /// async-signal-safe functions; an exec failure comes back through a close-on-exec pipe.
    private func forkExec(
        _ argv: [UnsafeMutablePointer<CChar>?], _ env: [UnsafeMutablePointer<CChar>?],
        stdout: Int32, stderr: Int32, user: uid_t
    ) -> (pid_t, Int32) {
        var report: [Int32] = [0, 0]
        guard Self.pipe(&report) else { return (0, errno) }
        defer { close(report[0]) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        let pid = path.withCString { cPath in
            argv.withUnsafeBufferPointer { cArgs in
                env.withUnsafeBufferPointer { cEnv -> pid_t in
                    guard let argvBase = cArgs.baseAddress, let envBase = cEnv.baseAddress else {
                        errno = EINVAL
                        return -1
                    }
                    let pid = fork()
                    if pid == 0 {
                        var failure: Int32 = 0
                        if dup2(null, 0) < 0 || dup2(stdout, 1) < 0 || (stderr >= 0 && dup2(stderr, 2) < 0)
                            || setgroups(0, nil) != 0 || setgid(gid_t(user)) != 0 || setuid(user) != 0 {
                            failure = errno
                        } else {
                            execve(cPath, argvBase, envBase)
                            failure = errno
                        }
                        _ = withUnsafeBytes(of: &failure) { write(report[1], $0.baseAddress, 4) }
                        _exit(127)
                    }
                    return pid
                }
            }
        }
        close(report[1])
        if pid < 0 { return (0, errno) }
        var failure: Int32 = 0
        if withUnsafeMutableBytes(of: &failure, { read(report[0], $0.baseAddress, 4) }) == 4 {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return (pid, failure)
        }
        return (pid, 0)
    }

    /// Reads the pipes (-1: none) while the child runs, so that neither fills and stalls it;
    /// waits for it, killing it past the time limit.
    private func collect(_ pid: pid_t, from pipes: [Int32]) throws(Failure) -> Outcome {
        var collected: [[UInt8]] = pipes.map { _ in [] }
        var open = pipes.map { $0 >= 0 }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var status: Int32 = 0
        var start = timespec(), now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0 && errno != EINTR { throw .setup(call: "waitpid", Errno(rawValue: errno)) }
            let watched = pipes.indices.filter { open[$0] }
            var pollers = watched.map { pollfd(fd: pipes[$0], events: Int16(POLLIN), revents: 0) }
            if pollers.isEmpty {
                usleep(1000)
            } else if poll(&pollers, nfds_t(pollers.count), 10) > 0 {
                for (i, poller) in zip(watched, pollers) where poller.revents != 0 {
                    let count = read(pipes[i], &buffer, buffer.count)
                    if count > 0 {
                        collected[i] += buffer[0..<count]
                    } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                        open[i] = false
                    }
                }
            }
            clock_gettime(CLOCK_MONOTONIC, &now)
            if let timeLimit, now.tv_sec - start.tv_sec > timeLimit {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw .timedOut(seconds: timeLimit)
            }
        }
        // The child has exited: what is left in the pipes is the end of its output.
        for i in pipes.indices where open[i] {
            while true {
                let count = read(pipes[i], &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                collected[i] += buffer[0..<count]
            }
        }
        return Outcome(status: status, standardOutput: collected[0], standardError: collected[1])
    }
}
