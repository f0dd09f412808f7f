using System.Text;

namespace MailCluster.Host.Logging;

/// <summary>
/// The console's output half of <see cref="BatchedConsoleLoggerProvider"/>: formatted records are queued by the threads
/// that log them and written by one thread of its own, all records queued since its last write in one write per
/// stream. Why: the framework's console logger hands every record to its thread on its own (a lock, a wake-up of that
/// thread and one <c>write</c> per record): 0.02-0.03 CPU-ms per relayed message on the mail log's three records
/// (docs/BENCHMARKS.md "While relaying, a new connection per message").
/// <para>Contract: records reach their stream in the order they were queued, each whole. A record waits at most
/// <see cref="Linger"/> (the writer wakes at the first record of a burst and writes once the linger has passed);
/// records queued with <c>flush</c> (errors) and a queue of <see cref="FlushAt"/> records are written at once.
/// <see cref="Dispose"/> writes everything queued before it returns (waiting at most 1.5 s for a blocked stream, as the
/// framework's logger does), and a record queued after it is written at once on the caller's thread, so nothing logged
/// while the process ends (Akka's shutdown hook logs on process exit) is dropped. A process killed outright loses what
/// waits, at most one linger's worth, as the framework's logger loses its queue.</para>
/// <para>Bounded: a caller that finds <see cref="MaxQueued"/> records waiting blocks until the writer has taken them
/// (the framework logger's default <c>Wait</c> mode), so a stalled stdout slows logging instead of growing memory.</para>
/// </summary>
public sealed class BatchedConsoleWriter : IDisposable
{
    public static readonly TimeSpan DefaultLinger = TimeSpan.FromMilliseconds(50);

    private readonly Stream _stdout;
    private readonly Stream _stderr;
    private readonly object _gate = new(); // Monitor.Wait/Pulse: not a System.Threading.Lock
    private readonly Lock _streams = new(); // one writer of the streams at a time: the thread, or a caller after Dispose
    private readonly Thread _thread;
    private List<(string Text, bool Error)> _queue = [];
    private bool _flushNow;
    private bool _stopping;
    private long _writes;
    private readonly MemoryStream _stdoutBuffer = new();
    private readonly MemoryStream _stderrBuffer = new();

    /// <param name="stdout">Where records go; <paramref name="stderr"/> takes those queued as errors.</param>
    /// <param name="linger">The longest a record waits for the records after it.</param>
    public BatchedConsoleWriter(Stream stdout, Stream stderr, TimeSpan linger, int flushAt = 512, int maxQueued = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(linger, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flushAt);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueued, flushAt);
        _stdout = stdout;
        _stderr = stderr;
        Linger = linger;
        FlushAt = flushAt;
        MaxQueued = maxQueued;
        _thread = new Thread(Run) { IsBackground = true, Name = "Console writer" };
        _thread.Start();
    }

    public TimeSpan Linger { get; }

    public int FlushAt { get; }

    public int MaxQueued { get; }

    /// <summary>Writes the batches have taken so far (one per stream per batch), for tests and diagnostics.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <param name="text">One formatted record (its line ending included).</param>
    /// <param name="error">To standard error instead of standard output.</param>
    /// <param name="flush">Write without waiting for the linger (errors: a crash right after must not lose them).</param>
    public void Enqueue(string text, bool error, bool flush)
    {
        lock (_gate)
        {
            while (_queue.Count >= MaxQueued && !_stopping)
            {
                Monitor.Wait(_gate);
            }

            if (!_stopping)
            {
                _queue.Add((text, error));
                _flushNow |= flush || _queue.Count >= FlushAt;
                if (_queue.Count == 1 || _flushNow)
                {
                    Monitor.PulseAll(_gate); // the writer sleeps until the first record of a burst, or lingers
                }

                return;
            }
        }

        // After Dispose: written here, once the thread has written what was queued before (order kept).
        _thread.Join(TimeSpan.FromMilliseconds(1500));
        Write([(text, error)]);
    }

    /// <summary>Writes what is queued, then stops the writer thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        _thread.Join(TimeSpan.FromMilliseconds(1500));
    }

    private void Run()
    {
        while (true)
        {
            List<(string Text, bool Error)> batch;
            bool last;
            lock (_gate)
            {
                while (_queue.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }

                if (!_flushNow && !_stopping)
                {
                    Monitor.Wait(_gate, Linger); // ends early when a flush is asked for or the writer stops
                }

                batch = _queue;
                _queue = [];
                _flushNow = false;
                last = _stopping;
                Monitor.PulseAll(_gate); // callers blocked on a full queue
            }

            Write(batch);
            if (last)
            {
                return;
            }
        }
    }

    private void Write(List<(string Text, bool Error)> batch)
    {
        lock (_streams)
        {
            foreach (var (text, error) in batch)
            {
                var buffer = error ? _stderrBuffer : _stdoutBuffer;
                var start = buffer.Length;
                buffer.SetLength(start + Encoding.UTF8.GetMaxByteCount(text.Length));
                int written = Encoding.UTF8.GetBytes(text, buffer.GetBuffer().AsSpan((int)start));
                buffer.SetLength(start + written);
            }

            Drain(_stdoutBuffer, _stdout);
            Drain(_stderrBuffer, _stderr);
        }
    }

    private void Drain(MemoryStream buffer, Stream stream)
    {
        if (buffer.Length == 0)
        {
            return;
        }

        try
        {
            stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
            stream.Flush();
            Interlocked.Increment(ref _writes);
        }
#pragma warning disable CA1031 // A console that cannot be written (closed pipe) must not stop the node; records are dropped, as the framework logger does.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        buffer.SetLength(0);
        if (buffer.Capacity > 1 << 20)
        {
            buffer.Capacity = 64 * 1024; // a burst of large records does not keep its buffer for ever
        }
    }
}
