// A thread of our own (pthread_create, pthread_join): the per-file work that waits on the file
// system runs on a few of them.
import Glibc

public final class OSThread {
    private var thread: pthread_t
    private var joined = false

    private init(_ thread: pthread_t) { self.thread = thread }

    /// Starts `body` on a new thread; nil when the system would make none (the caller runs it
    /// itself). `body` must touch nothing the starter uses until `join` returns.
    public static func start(_ body: @escaping () -> Void) -> OSThread? {
        final class Work {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }
        let context = Unmanaged.passRetained(Work(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            raw.map { Unmanaged<Work>.fromOpaque($0).takeRetainedValue().run() }
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<Work>.fromOpaque(context).release()
            return nil
        }
        return OSThread(thread)
    }

    /// Waits for the thread to finish; once.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}
