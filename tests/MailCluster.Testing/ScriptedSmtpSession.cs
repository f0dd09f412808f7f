using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace MailCluster.Testing;

/// <summary>One connection of <see cref="ScriptedSmtpServer"/>: the RFC 5321 §4.1 command loop.</summary>
internal sealed class ScriptedSmtpSession(ScriptedSmtpServer server, int connectionId, TcpClient client)
{
    private int _ended;

    /// <summary>True the first time only (see <see cref="ScriptedSmtpServer.SessionEnded"/>).</summary>
    internal bool MarkEnded() => Interlocked.Exchange(ref _ended, 1) == 0;

    private const int MaxLineLength = 1024 * 1024;
    private Stream _stream = client.GetStream();
    private CrlfLineReader _reader = new(client.GetStream(), MaxLineLength);
    private string? _mailFrom;
    private readonly List<string> _recipients = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await ReplyAsync(SmtpStage.Connect, "", null, null, $"220 {server.HostName} ESMTP ScriptedSmtpServer", cancellationToken))
            {
                return;
            }

            while (await ReadCommandAsync(cancellationToken) is { } line)
            {
                if (!await HandleAsync(line, cancellationToken))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException
            or InvalidDataException or AuthenticationException or ObjectDisposedException)
        {
            // The peer went away, the test ended, or the client broke the protocol: just close.
        }
        finally
        {
            await _stream.DisposeAsync();
        }
    }

    private string? _user;

    private async Task<string?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        bool pipelined = _reader.HasBufferedData; // sent before the previous command was answered (RFC 2920)
        byte[]? line = await _reader.ReadLineAsync(cancellationToken);
        string? text = line is null ? null : Encoding.UTF8.GetString(line);
        if (text is not null)
        {
            server.RecordCommand(connectionId, text, pipelined);
        }

        return text;
    }

    /// <returns>False when the connection must close.</returns>
    private async Task<bool> HandleAsync(string line, CancellationToken ct)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string verb = (space < 0 ? line : line[..space]).ToUpperInvariant();
        string argument = space < 0 ? "" : line[(space + 1)..];
        switch (verb)
        {
            case "EHLO":
            case "HELO":
                ResetTransaction();
                List<string> lines = verb == "HELO" ? [server.HostName] : [server.HostName, .. server.Extensions];
                if (verb == "EHLO" && (server.Credentials is not null || server.OAuthTokenCheck is not null))
                {
                    lines.Add("AUTH" + (server.Credentials is null ? "" : " PLAIN") + (server.OAuthTokenCheck is null ? "" : " XOAUTH2"));
                }

                string ehlo = string.Join("\r\n", lines.Select((text, i) => (i == lines.Count - 1 ? "250 " : "250-") + text));
                return await ReplyAsync(SmtpStage.Ehlo, argument, null, null, ehlo, ct);
            case "AUTH":
                return await AuthAsync(argument, ct);
            case "MAIL" when (server.Credentials is not null || server.OAuthTokenCheck is not null) && _user is null:
                return await WriteAsync("530 5.7.0 Authentication required", ct);
            case "MAIL":
                if (_mailFrom is not null)
                {
                    return await WriteAsync("503 5.5.1 Nested MAIL command", ct);
                }

                string from = PathOf(argument, "FROM:");
                return await ReplyAsync(SmtpStage.Mail, argument, null, null, "250 2.1.0 Ok", ct, accepted => _mailFrom = accepted ? from : null);
            case "RCPT":
                if (_mailFrom is null)
                {
                    return await WriteAsync("503 5.5.1 Need MAIL command", ct);
                }

                string to = PathOf(argument, "TO:");
                return await ReplyAsync(SmtpStage.Rcpt, argument, to, null, "250 2.1.5 Ok", ct, accepted =>
                {
                    if (accepted)
                    {
                        _recipients.Add(to);
                    }
                });
            case "DATA":
                return await DataAsync(ct);
            case "BDAT" when server.Extensions.Contains("CHUNKING"):
                return await BdatAsync(argument, ct);
            case "RSET":
                return await ReplyAsync(SmtpStage.Rset, "", null, null, "250 2.0.0 Ok", ct, accepted =>
                {
                    if (accepted)
                    {
                        ResetTransaction();
                    }
                });
            case "NOOP":
                return await WriteAsync("250 2.0.0 Ok", ct);
            case "QUIT":
                server.SessionEnded(this);
                await WriteAsync("221 2.0.0 Bye", ct);
                return false;
            case "STARTTLS" when server.Certificate is not null:
                return await StartTlsAsync(ct);
            default:
                return await WriteAsync("502 5.5.2 Command not recognized", ct);
        }
    }

    /// <summary>AUTH PLAIN with an initial response (RFC 4616), checked against <see cref="ScriptedSmtpServer.Credentials"/>.</summary>
    private async Task<bool> AuthAsync(string argument, CancellationToken ct)
    {
        var parts = argument.Split(' ', 2);
        if (server.OAuthTokenCheck is { } check && parts[0].Equals("XOAUTH2", StringComparison.OrdinalIgnoreCase))
        {
            return await XOAuth2Async(check, parts.Length > 1 ? parts[1] : null, ct);
        }

        if (server.Credentials is not { } expected || !parts[0].Equals("PLAIN", StringComparison.OrdinalIgnoreCase) || parts.Length < 2)
        {
            return await WriteAsync("504 5.5.4 Only AUTH PLAIN with an initial response", ct);
        }

        string[] fields;
        try
        {
            fields = Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])).Split('\0');
        }
        catch (FormatException)
        {
            return await WriteAsync("501 5.5.2 Bad base64", ct);
        }

        if (fields.Length == 3 && fields[1] == expected.User && fields[2] == expected.Password)
        {
            _user = fields[1];
            server.RecordAuthentication(_user);
            return await WriteAsync("235 2.7.0 Authentication successful", ct);
        }

        return await WriteAsync("535 5.7.8 Authentication credentials invalid", ct);
    }

    /// <summary>XOAUTH2 (Google's SASL mechanism): base64 of <c>user={user}^Aauth=Bearer {token}^A^A</c>, as the initial
    /// response or after an empty 334.</summary>
    private async Task<bool> XOAuth2Async(Func<string, string, bool> check, string? initial, CancellationToken ct)
    {
        if (initial is null)
        {
            await WriteAsync("334 ", ct);
            initial = await ReadCommandAsync(ct) ?? "";
        }

        string[] fields;
        try
        {
            fields = Encoding.UTF8.GetString(Convert.FromBase64String(initial)).Split('\x01');
        }
        catch (FormatException)
        {
            return await WriteAsync("501 5.5.2 Bad base64", ct);
        }

        var user = fields.FirstOrDefault(f => f.StartsWith("user=", StringComparison.Ordinal))?["user=".Length..];
        var token = fields.FirstOrDefault(f => f.StartsWith("auth=Bearer ", StringComparison.Ordinal))?["auth=Bearer ".Length..];
        if (user is null || token is null)
        {
            return await WriteAsync("501 5.5.2 Malformed XOAUTH2 response", ct);
        }

        server.RecordOAuthToken(token);
        if (check(user, token))
        {
            _user = user;
            server.RecordAuthentication(user);
            return await WriteAsync("235 2.7.0 Accepted", ct);
        }

        // Gmail's answer to a bad token: an error challenge, the client's empty line, then 535.
        await WriteAsync("334 " + Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"status\":\"401\",\"schemes\":\"Bearer\"}")), ct);
        await ReadCommandAsync(ct);
        return await WriteAsync("535 5.7.8 Username and Password not accepted", ct);
    }

    private async Task<bool> DataAsync(CancellationToken ct)
    {
        server.RecordDataAttempt();
        if (_mailFrom is null)
        {
            return await WriteAsync("503 5.5.1 Need MAIL command", ct);
        }

        if (_recipients.Count == 0)
        {
            return await WriteAsync("554 5.5.1 No valid recipients", ct);
        }

        bool go = false;
        if (!await ReplyAsync(SmtpStage.DataStart, "", null, null, "354 End data with <CR><LF>.<CR><LF>", ct, _ => { }, code => go = code == '3'))
        {
            return false;
        }

        if (!go)
        {
            return true;
        }

        using var data = new MemoryStream();
        while (true)
        {
            byte[] line = await _reader.ReadLineAsync(ct) ?? throw new IOException("connection closed during DATA");
            if (line is [(byte)'.'])
            {
                break;
            }

            // RFC 5321 §4.5.2: remove the first character of a line that begins with a period.
            int skip = line.Length > 0 && line[0] == '.' ? 1 : 0;
            data.Write(line, skip, line.Length - skip);
            data.Write("\r\n"u8);
            if (server.TakeMidDataHangUp(data.Length))
            {
                return false; // drop the connection in the middle of the message text
            }
        }

        byte[] body = data.ToArray();
        string mailFrom = _mailFrom;
        string[] recipients = [.. _recipients];
        ResetTransaction();
        return await ReplyAsync(SmtpStage.DataEnd, "", null, body, "250 2.0.0 Ok: queued", ct, accepted =>
        {
            if (accepted)
            {
                server.RecordMessage(new ReceivedMessage(connectionId, mailFrom, recipients, body, DateTimeOffset.UtcNow));
            }
        });
    }

    /// <summary>RFC 3030 BDAT: "BDAT size [LAST]", then exactly size octets (no dot-stuffing); a 250 per chunk, and the
    /// transaction's DataEnd reply after the LAST one. Chunks accumulate in <see cref="_chunks"/>.</summary>
    private async Task<bool> BdatAsync(string argument, CancellationToken ct)
    {
        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], out int size) || size < 0
            || (parts.Length == 2 && !parts[1].Equals("LAST", StringComparison.OrdinalIgnoreCase)))
        {
            return await WriteAsync("501 5.5.4 Syntax: BDAT size [LAST]", ct);
        }

        byte[] chunk = await _reader.ReadExactlyAsync(size, ct);
        if (_mailFrom is null || _recipients.Count == 0)
        {
            return await WriteAsync("503 5.5.1 Need MAIL and RCPT", ct);
        }

        _chunks.Add(chunk);
        if (parts.Length == 1)
        {
            return await WriteAsync($"250 2.0.0 {size} octets received", ct);
        }

        server.RecordDataAttempt();
        byte[] body = [.. _chunks.SelectMany(c => c)];
        string mailFrom = _mailFrom;
        string[] recipients = [.. _recipients];
        ResetTransaction();
        return await ReplyAsync(SmtpStage.DataEnd, "", null, body, "250 2.0.0 Ok: queued", ct, accepted =>
        {
            if (accepted)
            {
                server.RecordMessage(new ReceivedMessage(connectionId, mailFrom, recipients, body, DateTimeOffset.UtcNow));
            }
        });
    }

    private readonly List<byte[]> _chunks = [];

    private async Task<bool> StartTlsAsync(CancellationToken ct)
    {
        if (_reader.HasBufferedData)
        {
            // RFC 3207 §4.2 / CVE-2011-0411: commands pipelined after STARTTLS must not survive the upgrade.
            return await WriteAsync("501 5.5.4 Pipelined data after STARTTLS", ct);
        }

        await WriteAsync("220 2.0.0 Ready to start TLS", ct);
        if (server.BreakStartTls)
        {
            await _stream.WriteAsync("this is not a TLS ServerHello\r\n"u8.ToArray(), ct);
            await _stream.FlushAsync(ct);
            return false;
        }

        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = server.Certificate }, ct);
        _stream = ssl;
        _reader = new CrlfLineReader(ssl, MaxLineLength);
        ResetTransaction();
        return true;
    }

    /// <summary>Asks the script for a reply at <paramref name="stage"/>, falls back to <paramref name="fallback"/>, and writes it.</summary>
    /// <param name="onDecided">Told whether the reply was positive (2xx).</param>
    /// <param name="onCode">Told the first digit of the reply.</param>
    private async Task<bool> ReplyAsync(SmtpStage stage, string argument, string? recipient, byte[]? data, string fallback,
        CancellationToken ct, Action<bool>? onDecided = null, Action<char>? onCode = null)
    {
        int attempt = stage == SmtpStage.DataEnd ? server.NextDataEndAttempt() : server.DataEndAttemptsSoFar;
        var context = new ScriptContext(connectionId, stage, argument, _mailFrom, recipient, [.. _recipients], attempt, data);
        string reply = server.Decide(stage, context) ?? fallback;
        if (reply == ScriptedSmtpServer.HangUp)
        {
            return false;
        }

        onDecided?.Invoke(reply.StartsWith('2'));
        onCode?.Invoke(reply.Length > 0 ? reply[0] : '5');
        return await WriteAsync(reply, ct);
    }

    private async Task<bool> WriteAsync(string reply, CancellationToken ct)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\r\n"), ct);
        await _stream.FlushAsync(ct);
        return true;
    }

    private void ResetTransaction()
    {
        _mailFrom = null;
        _recipients.Clear();
        _chunks.Clear();
    }

    /// <summary>Extracts the path from <c>FROM:&lt;a@b&gt; PARAMS</c>; tolerant of a missing bracket or a space after the colon.</summary>
    private static string PathOf(string argument, string prefix)
    {
        string rest = argument.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? argument[prefix.Length..].TrimStart() : argument;
        if (rest.StartsWith('<'))
        {
            int close = rest.IndexOf('>', StringComparison.Ordinal);
            return close < 0 ? rest[1..] : rest[1..close];
        }

        int space = rest.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? rest : rest[..space];
    }
}
