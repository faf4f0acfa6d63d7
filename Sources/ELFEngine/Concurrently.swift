// Runs independent per-file work on a few threads: the cost of sealing many files is latency in
// the file system (block allocation, freeing the replaced inodes), which overlaps well.
import LinuxOS

public enum Concurrently {
    /// The threads used for per-file work: more than the cores, since the work mostly waits.
    public static let defaultWidth = 16

    /// `body` applied to every item on up to `width` threads; results in the items' order.
    /// `body` must touch nothing shared but what is safe to share between threads.
    public static func map<T, R>(_ items: [T], width: Int = defaultWidth, _ body: (T) -> R) -> [R] {
        let workers = min(max(width, 1), items.count)
        if workers <= 1 { return items.map(body) }
        let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
        results.initialize(repeating: nil)
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        withoutActuallyEscaping(body) { body in
            // Each worker takes every workers-th item: the result slots it writes are its own.
            let jobs = (0..<workers).map { index in
                background {
                    var i = index
                    while i < items.count {
                        results[i] = body(items[i])
                        i += workers
                    }
                }
            }
            for job in jobs { job.join() }
        }
        return results.map { $0! }
    }

    /// Starts `body` on a thread of its own; `join()` waits for it and returns its result.
    /// The caller must not touch what `body` uses until then.
    public static func background<R>(_ body: @escaping () -> R) -> BackgroundJob<R> {
        let job = BackgroundJob<R>()
        let work = { job.result = body() }
        if let thread = OSThread.start(work) { job.thread = thread } else { work() }
        return job
    }
}

/// Work running on a thread of its own (see `Concurrently.background`).
public final class BackgroundJob<R> {
    fileprivate var thread: OSThread?
    fileprivate var result: R?

    /// Waits for the work to finish and returns its result.
    public func join() -> R {
        thread?.join()
        thread = nil
        return result!
    }
}
