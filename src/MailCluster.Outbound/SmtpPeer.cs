using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace MailCluster.Outbound;

/// <summary>
/// The wire of one outbound SMTP session: the socket's stream (upgraded in place by STARTTLS), the replies read from
/// it, and the service extensions of the last EHLO (RFC 5321 §4.1.1.1). Commands are written as UTF-8 lines (ASCII
/// unless the transaction is SMTPUTF8); every read and write runs under the timeout of its stage. Network failures
/// and timeouts surface as <see cref="IOException"/>, <see cref="SocketException"/> or <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class SmtpPeer : IAsyncDisposable
{
    private Stream _stream;
    private PeerReplyReader _reader;
    private readonly Socket _socket;
    private HashSet<string> _keywords = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlyList<string> _ehloLines = [];

    public SmtpPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new PeerReplyReader(_stream);
    }

    public bool IsConnected => _socket.Connected;

    /// <summary>The TLS session after a successful STARTTLS; null in clear text.</summary>
    public SslStream? Tls { get; private set; }

    /// <summary>True when the last EHLO listed <paramref name="keyword"/> (e.g. PIPELINING, DSN, SMTPUTF8, CHUNKING).</summary>
    public bool Offers(string keyword) => _keywords.Contains(keyword);

    /// <summary>The parameters of an EHLO keyword (e.g. the mechanisms after AUTH); empty when not offered.</summary>
    public IReadOnlyList<string> ParametersOf(string keyword)
    {
        foreach (var line in _ehloLines)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0 && words[0].Equals(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return words[1..];
            }
        }

        return [];
    }

    /// <summary>EHLO, or HELO when the peer refuses EHLO with 5xx (RFC 5321 §3.2: an old server; no extensions).
    /// Returns the reply that ends the exchange.</summary>
    public async Task<PeerReply> HelloAsync(string name, int timeoutMs, CancellationToken ct)
    {
        var ehlo = await CommandAsync($"EHLO {name}", timeoutMs, ct).ConfigureAwait(false);
        if (ehlo.Code == 250)
        {
            // The first line is the server's greeting name; each further line one keyword and its parameters.
            _ehloLines = [.. ehlo.Lines.Skip(1)];
            _keywords = new HashSet<string>(_ehloLines.Select(l => l.Split(' ')[0]), StringComparer.OrdinalIgnoreCase);
            return ehlo;
        }

        _ehloLines = [];
        _keywords = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return ehlo.Code is >= 500 and < 600 ? await CommandAsync($"HELO {name}", timeoutMs, ct).ConfigureAwait(false) : ehlo;
    }

    /// <summary>RFC 3207 §4.2: after the peer's 220 to STARTTLS, the handshake; everything known from the clear-text
    /// EHLO is forgotten (the caller sends EHLO again).</summary>
    /// <exception cref="AuthenticationException">The handshake failed or the certificate was refused.</exception>
    public async Task StartTlsAsync(string host, RemoteCertificateValidationCallback validate, int timeoutMs, CancellationToken ct)
    {
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, validate);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(timeoutMs);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = host,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        }, timeout.Token).ConfigureAwait(false);
        _stream = tls;
        _reader = new PeerReplyReader(tls);
        Tls = tls;
        _keywords = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _ehloLines = [];
    }

    /// <summary>One command and its reply.</summary>
    public async Task<PeerReply> CommandAsync(string command, int timeoutMs, CancellationToken ct)
    {
        await WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), timeoutMs, ct).ConfigureAwait(false);
        return await ReadAsync(timeoutMs, ct).ConfigureAwait(false);
    }

    /// <summary>Several command lines in one write (RFC 2920 pipelining); the caller reads one reply per line.</summary>
    public Task WriteLinesAsync(IEnumerable<string> commands, int timeoutMs, CancellationToken ct) =>
        WriteAsync(Encoding.UTF8.GetBytes(string.Concat(commands.Select(c => c + "\r\n"))), timeoutMs, ct);

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, int timeoutMs, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(timeoutMs);
        await _stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
        await _stream.FlushAsync(timeout.Token).ConfigureAwait(false);
    }

    public Task<PeerReply> ReadAsync(int timeoutMs, CancellationToken ct) => _reader.ReadAsync(timeoutMs, ct);

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
