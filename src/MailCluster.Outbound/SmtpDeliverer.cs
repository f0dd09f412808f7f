using System.Runtime.InteropServices;
using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace MailCluster.Outbound;

/// <summary>
/// Delivers one message to one recipient domain over SMTP (MailKit): resolve the MX hosts, then try each host
/// and each of its addresses in order until one SMTP transaction runs (RFC 5321 §5.1). Connection-level failures
/// (refused, timeout, TLS, greeting/EHLO refused, dropped connection) move on to the next address; replies inside
/// a transaction are final for this attempt. Never throws except on cancellation (see <see cref="IDeliverer"/>).
/// </summary>
public sealed partial class SmtpDeliverer : IDeliverer
{
    private readonly MxResolver _resolver;
    private readonly OutboundOptions _options;
    private readonly ILogger<SmtpDeliverer> _logger;

    public SmtpDeliverer(MxResolver resolver, IOptions<OutboundOptions> options, ILogger<SmtpDeliverer> logger)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _resolver = resolver;
        _options = options.Value;
        _logger = logger;
    }

    public async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var outcomes = new RecipientOutcome?[request.Recipients.Count];
        var mailboxes = new List<(int Index, MailboxAddress Mailbox)>();
        for (int i = 0; i < outcomes.Length; i++)
        {
            if (TryMailbox(request.Recipients[i], out var mailbox))
            {
                mailboxes.Add((i, mailbox));
            }
            else
            {
                outcomes[i] = new RecipientOutcome(request.Recipients[i], OutcomeKind.Permanent, 0, "5.1.3", "bad recipient address syntax");
            }
        }

        if (!TryMailbox(request.Sender, out var sender))
        {
            return Finish(outcomes, request, OutcomeKind.Permanent, 0, "5.1.7", $"bad sender address syntax: <{request.Sender}>", null, null);
        }

        if (mailboxes.Count == 0)
        {
            return new DeliveryResult([.. outcomes.Select(o => o!)], null, null);
        }

        MxResolution resolution;
        try
        {
            resolution = await _resolver.ResolveAsync(request.Domain, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // E.g. a domain DnsClient refuses to encode. The contract says only cancellation escapes.
            resolution = MxResolution.Transient("4.4.3", $"MX lookup for {request.Domain} failed: {e.Message}");
        }

        if (resolution.Kind != MxResolutionKind.Ok)
        {
            var kind = resolution.Kind == MxResolutionKind.Permanent ? OutcomeKind.Permanent : OutcomeKind.Transient;
            LogResolutionFailed(request.MessageId, request.Domain, resolution.Text);
            return Finish(outcomes, request, kind, resolution.Code, resolution.EnhancedCode, resolution.Text, null, null);
        }

        MimeMessage message;
        try
        {
            message = Load(request.Body, cancellationToken);
        }
        catch (FormatException e)
        {
            // MimeKit found no header block at all; MailKit can only send what MimeKit can parse.
            return Finish(outcomes, request, OutcomeKind.Permanent, 0, "5.6.0", $"message cannot be parsed for relay: {e.Message}", null, null);
        }

        var session = new SmtpDeliverySession(_options, message, sender, mailboxes);
        AttemptResult? last = null;
        foreach (var target in resolution.Targets)
        {
            foreach (var address in target.Addresses)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var attempt = await session.RunAsync(target.Host, address, cancellationToken).ConfigureAwait(false);
                if (attempt.Outcomes is not null)
                {
                    foreach (var (index, outcome) in attempt.Outcomes)
                    {
                        outcomes[index] = outcome with { Recipient = request.Recipients[index] };
                    }

                    return new DeliveryResult([.. outcomes.Select(o => o!)], attempt.RemoteMta, attempt.TlsProtocol);
                }

                LogAttemptFailed(request.MessageId, attempt.RemoteMta ?? target.Host, attempt.Error);
                last = attempt;
            }
        }

        // RFC 3463: X.4.1 "no answer from host" when nothing connected, X.4.2 "bad connection" when one dropped.
        string enhanced = last?.Connected == true ? "4.4.2" : "4.4.1";
        string text = $"delivery to {request.Domain} failed at every MX host; last error: {last?.Error ?? "no address to try"}";
        return Finish(outcomes, request, OutcomeKind.Transient, 0, enhanced, text, last?.Connected == true ? last.RemoteMta : null, null);
    }

    /// <summary>Every recipient without an outcome yet gets the same one.</summary>
    private static DeliveryResult Finish(RecipientOutcome?[] outcomes, DeliveryRequest request, OutcomeKind kind, int code,
        string enhancedCode, string text, string? remoteMta, string? tls)
    {
        var all = outcomes.Select((o, i) => o ?? new RecipientOutcome(request.Recipients[i], kind, code, enhancedCode, text));
        return new DeliveryResult([.. all], remoteMta, tls);
    }

    /// <summary>An empty sender is the null reverse-path: MailKit writes <c>MAIL FROM:&lt;&gt;</c> for an empty address.</summary>
    private static bool TryMailbox(string address, out MailboxAddress mailbox)
    {
        try
        {
            mailbox = new MailboxAddress("", address ?? "");
            return true;
        }
        catch (ParseException)
        {
            mailbox = null!;
            return false;
        }
    }

    private static MimeMessage Load(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var stream = MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
        using (stream)
        {
            return MimeMessage.Load(stream, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{MessageId}: MX resolution for {Domain} failed: {Reason}")]
    private partial void LogResolutionFailed(string messageId, string domain, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{MessageId}: delivery via {Remote} failed: {Reason}")]
    private partial void LogAttemptFailed(string messageId, string remote, string? reason);
}
