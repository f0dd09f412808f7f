using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailCluster.Bench;

/// <summary>
/// A deliberately small SMTP client over a raw socket: no pipelining, one command per round trip, so the
/// time it measures is the server's, not a client library's. Replies are read to their last line.
/// </summary>
internal sealed class SmtpWire : IAsyncDisposable
{
    private readonly Socket socket;
    private readonly byte[] buffer = new byte[4096];
    private int start;
    private int end;

    private SmtpWire(Socket socket) => this.socket = socket;

    public static async Task<SmtpWire> ConnectAsync(IPEndPoint endPoint, CancellationToken ct)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, ct).ConfigureAwait(false);
            return new SmtpWire(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="command"/> (CRLF appended) and returns the reply code.</summary>
    public async Task<int> CommandAsync(string command, CancellationToken ct)
    {
        await SendAsync(Encoding.ASCII.GetBytes(command + "\r\n"), ct).ConfigureAwait(false);
        return await ReadReplyAsync(ct).ConfigureAwait(false);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await socket.SendAsync(bytes, SocketFlags.None, ct).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Reads one (possibly multi-line) reply and returns its code; 0 when the peer closed.</summary>
    public async Task<int> ReadReplyAsync(CancellationToken ct)
    {
        while (true)
        {
            var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (newline >= 0)
            {
                var line = Encoding.ASCII.GetString(buffer, start, newline - start + 1);
                start = newline + 1;
                if (line.Length >= 4 && line[3] == ' ' && int.TryParse(line.AsSpan(0, 3), out var code))
                {
                    return code;
                }

                continue;
            }

            if (start > 0)
            {
                Array.Copy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                throw new InvalidDataException("reply line longer than 4096 octets");
            }

            var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, ct).ConfigureAwait(false);
            if (read == 0)
            {
                return 0;
            }

            end += read;
        }
    }

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
