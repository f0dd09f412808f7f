using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A client for when the exact bytes are the point: writes what it is given, reads CRLF-ended replies, and can
/// switch to TLS (STARTTLS) or start in it (implicit TLS). It accepts any server certificate.
/// </summary>
public sealed class RawSmtpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly StringBuilder _pending = new();
    private Stream _stream;

    private RawSmtpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public SslStream? Tls => _stream as SslStream;

    public static async Task<RawSmtpClient> ConnectAsync(int port, bool implicitTls = false, IPAddress? from = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        await tcp.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
        var client = new RawSmtpClient(tcp);
        if (implicitTls)
        {
            await client.StartTlsAsync().ConfigureAwait(false);
        }

        return client;
    }

    public async Task StartTlsAsync(SslProtocols protocols = SslProtocols.None)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mc.test", EnabledSslProtocols = protocols })
            .ConfigureAwait(false);
        _stream = ssl;
        _pending.Clear();
    }

    public async Task WriteAsync(string text) => await WriteAsync(Encoding.UTF8.GetBytes(text)).ConfigureAwait(false);

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes).ConfigureAwait(false);
        await _stream.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Writes one command line and reads one reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await WriteAsync(line + "\r\n").ConfigureAwait(false);
        return await ReadReplyAsync().ConfigureAwait(false);
    }

    /// <summary>Reads one whole reply (all lines of a multi-line reply) and returns it without the final CRLF,
    /// or "&lt;closed&gt;" when the server closed the connection.</summary>
    public async Task<string> ReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync(cts.Token).ConfigureAwait(false);
            if (line is null)
            {
                return lines.Count == 0 ? "<closed>" : string.Join("\n", lines);
            }

            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join("\n", lines);
            }
        }
    }

    /// <summary>True when the server closed the connection (reads end) within the timeout.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var buffer = new byte[256];
            while (true)
            {
                if (await _stream.ReadAsync(buffer, cts.Token).ConfigureAwait(false) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        var buffer = new byte[1];
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..end];
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (IOException)
            {
                return null;
            }

            if (read == 0)
            {
                return null;
            }

            _pending.Append((char)buffer[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}
