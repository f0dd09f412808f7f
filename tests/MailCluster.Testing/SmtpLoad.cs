using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MailCluster.Testing;

/// <summary>One message of a load run: a unique Message-ID and its envelope.</summary>
public sealed record LoadMessage(string MessageId, string From, IReadOnlyList<string> Recipients);

/// <summary>How a load run is paced: each worker sends at most one message per <paramref name="WorkerInterval"/>, and
/// <paramref name="StopTaking"/> ends the run after the messages already taken.</summary>
public sealed record LoadPace(TimeSpan WorkerInterval, CancellationToken StopTaking);

/// <summary>What a load run saw, per message id: the final reply of the last attempt, and which ids got 250.</summary>
public sealed class LoadResult
{
    public ConcurrentDictionary<string, bool> Accepted { get; } = new(StringComparer.Ordinal);

    /// <summary>Per accepted message id, the edge port whose 250 it got (the node that owes its delivery).</summary>
    public ConcurrentDictionary<string, int> AcceptedOn { get; } = new(StringComparer.Ordinal);

    /// <summary>Per accepted message id, the 250 reply itself ("queued as" names the node's own id for it).</summary>
    public ConcurrentDictionary<string, string> AcceptedReply { get; } = new(StringComparer.Ordinal);

    /// <summary>Per accepted message id, when its 250 arrived.</summary>
    public ConcurrentDictionary<string, DateTimeOffset> AcceptedAt { get; } = new(StringComparer.Ordinal);

    /// <summary>How many messages each edge port answered 250.</summary>
    public IReadOnlyDictionary<int, int> AcceptedPerPort() =>
        AcceptedOn.Values.GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());

    public ConcurrentBag<(DateTimeOffset At, string Reply)> TransientReplies { get; } = [];

    private int _connectionFailures;
    private int _gaveUp;
    private int _taken;

    /// <summary>How many messages the workers took from the list (all of it, unless the run was told to stop taking).</summary>
    public int Taken => Volatile.Read(ref _taken);

    public int ConnectionFailures => Volatile.Read(ref _connectionFailures);

    public int GaveUp => Volatile.Read(ref _gaveUp);

    internal void AddConnectionFailure() => Interlocked.Increment(ref _connectionFailures);

    internal void AddGaveUp() => Interlocked.Increment(ref _gaveUp);

    internal void AddTaken() => Interlocked.Increment(ref _taken);
}

/// <summary>
/// A plain SMTP load generator for cluster scenarios and benchmarks: <c>workers</c> parallel clients, each
/// keeping a connection open for many messages (small bodies, unique Message-IDs) and spreading over the given
/// edge ports. A 4xx answer or a broken connection is retried on the next port after a short pause, as a real
/// MTA would, until <c>deadline</c>; a message counts as accepted only when it got a 250. A scenario whose load must
/// last as long as something else does passes <see cref="LoadPace"/>: a list longer than it needs, a token that stops
/// taking new messages (those taken are still sent to the end), and a least interval between a worker's messages, so
/// that how many are sent does not depend on how fast the machine is.
/// </summary>
public static class SmtpLoad
{
    public static Task<LoadResult> RunAsync(
        Func<IReadOnlyList<int>> ports, IReadOnlyList<LoadMessage> messages, int workers, TimeSpan deadline, LoadPace? pace = null, CancellationToken cancellationToken = default) =>
        RunAsync("127.0.0.1", ports, messages, workers, deadline, pace, cancellationToken);

    /// <param name="host">The edge's address: 127.0.0.1, or a node's address inside a network namespace the test created.</param>
    public static async Task<LoadResult> RunAsync(
        string host, Func<IReadOnlyList<int>> ports, IReadOnlyList<LoadMessage> messages, int workers, TimeSpan deadline, LoadPace? pace = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(messages);
        var result = new LoadResult();
        var next = -1;
        var stopAt = DateTimeOffset.UtcNow + deadline;
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            Connection? connection = null;
            var portIndex = w;
            try
            {
                int i;
                var stopTaking = pace?.StopTaking ?? CancellationToken.None;
                var interval = pace?.WorkerInterval ?? TimeSpan.Zero;
                while (!stopTaking.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < messages.Count)
                {
                    result.AddTaken();
                    var message = messages[i];
                    var takenAt = DateTimeOffset.UtcNow;
                    while (true)
                    {
                        if (DateTimeOffset.UtcNow > stopAt || cancellationToken.IsCancellationRequested)
                        {
                            result.AddGaveUp();
                            break;
                        }

                        try
                        {
                            if (connection is null)
                            {
                                var list = ports();
                                connection = await Connection.OpenAsync(host, list[portIndex++ % list.Count]).ConfigureAwait(false);
                            }

                            var reply = await connection.SendAsync(message).ConfigureAwait(false);
                            if (reply.StartsWith('2'))
                            {
                                result.Accepted[message.MessageId] = true;
                                result.AcceptedOn[message.MessageId] = connection.Port;
                                result.AcceptedAt[message.MessageId] = DateTimeOffset.UtcNow;
                                result.AcceptedReply[message.MessageId] = reply;
                                break;
                            }

                            result.TransientReplies.Add((DateTimeOffset.UtcNow, reply));
                            if (reply.StartsWith('5'))
                            {
                                result.AddGaveUp();
                                break;
                            }

                            if (reply.StartsWith("421", StringComparison.Ordinal))
                            {
                                connection.Dispose();
                                connection = null;
                            }
                        }
                        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or OperationCanceledException)
                        {
                            result.AddConnectionFailure();
                            connection?.Dispose();
                            connection = null;
                        }

                        await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
                    }

                    var rest = takenAt + interval - DateTimeOffset.UtcNow;
                    if (rest > TimeSpan.Zero)
                    {
                        await Task.Delay(rest, CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                connection?.Dispose();
            }
        }, CancellationToken.None)).ToList();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return result;
    }

    /// <summary>One attempt on a new connection, never retried: the reply to the final dot (or the first refusal), or
    /// null when the connection broke or was refused. For scenarios that must see each reply a node gives.</summary>
    public static async Task<string?> ProbeAsync(string host, int port, LoadMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            using var connection = await Connection.OpenAsync(host, port).ConfigureAwait(false);
            return await connection.SendAsync(message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The Message-ID header value of a received message (the bytes the sink got), or null.</summary>
    public static string? MessageIdOf(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var text = Encoding.ASCII.GetString(data, 0, Math.Min(data.Length, 8192));
        var at = text.IndexOf("\r\nMessage-ID: <", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }

        var start = at + "\r\nMessage-ID: <".Length;
        var end = text.IndexOf('>', start);
        return end < 0 ? null : text[start..end];
    }

    private sealed class Connection : IDisposable
    {
        private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);
        private readonly TcpClient _client;
        private readonly StreamReader _reader;
        private readonly Stream _stream;

        private Connection(TcpClient client, int port)
        {
            Port = port;
            _client = client;
            _stream = client.GetStream();
            _reader = new StreamReader(_stream, Encoding.ASCII);
        }

        public static async Task<Connection> OpenAsync(string host, int port)
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(host, port).ConfigureAwait(false);
                var connection = new Connection(client, port);
                var greeting = await connection.ReadReplyAsync().ConfigureAwait(false);
                if (!greeting.StartsWith("220", StringComparison.Ordinal))
                {
                    throw new IOException("greeting: " + greeting);
                }

                var ehlo = await connection.CommandAsync("EHLO load.example").ConfigureAwait(false);
                return ehlo.StartsWith('2') ? connection : throw new IOException("EHLO: " + ehlo);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        public int Port { get; }

        /// <summary>One transaction; returns the first non-success reply, or the reply to the final dot.</summary>
        public async Task<string> SendAsync(LoadMessage message)
        {
            var reply = await CommandAsync($"MAIL FROM:<{message.From}>").ConfigureAwait(false);
            if (!reply.StartsWith('2'))
            {
                return reply;
            }

            var anyRecipient = false;
            foreach (var recipient in message.Recipients)
            {
                reply = await CommandAsync($"RCPT TO:<{recipient}>").ConfigureAwait(false);
                anyRecipient |= reply.StartsWith('2');
            }

            if (!anyRecipient)
            {
                await CommandAsync("RSET").ConfigureAwait(false);
                return reply;
            }

            reply = await CommandAsync("DATA").ConfigureAwait(false);
            if (!reply.StartsWith("354", StringComparison.Ordinal))
            {
                return reply;
            }

            var body = string.Create(CultureInfo.InvariantCulture,
                $"From: <{message.From}>\r\nTo: <{message.Recipients[0]}>\r\nMessage-ID: <{message.MessageId}>\r\nSubject: load\r\n\r\nsmall body {message.MessageId}\r\n.\r\n");
            await WriteAsync(body).ConfigureAwait(false);
            return await ReadReplyAsync().ConfigureAwait(false);
        }

        public void Dispose()
        {
            _reader.Dispose();
            _client.Dispose();
        }

        private async Task<string> CommandAsync(string line)
        {
            await WriteAsync(line + "\r\n").ConfigureAwait(false);
            return await ReadReplyAsync().ConfigureAwait(false);
        }

        private async Task WriteAsync(string text)
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            await _stream.WriteAsync(bytes).ConfigureAwait(false);
        }

        private async Task<string> ReadReplyAsync()
        {
            using var timeout = new CancellationTokenSource(ReplyTimeout);
            while (true)
            {
                var line = await _reader.ReadLineAsync(timeout.Token).ConfigureAwait(false) ?? throw new IOException("connection closed");
                if (line.Length < 4 || line[3] != '-')
                {
                    return line;
                }
            }
        }
    }
}
