namespace MailCluster.Edge;

/// <summary>What a listener is for: relay-in from the Internet, or submission by the cluster's users.</summary>
public enum ListenerRole
{
    /// <summary>Port 25: anyone may send to local and relay domains.</summary>
    Mx,

    /// <summary>Port 587: STARTTLS then AUTH (AUTH arrives with the SMTP-edge work).</summary>
    Submission,

    /// <summary>Port 465: implicit TLS (RFC 8314).</summary>
    Submissions,
}

public sealed record SmtpListener(string Name, int Port, ListenerRole Role, bool ImplicitTls)
{
    public static IReadOnlyList<SmtpListener> FromOptions(SmtpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return
        [
            new("mx", options.MxPort, ListenerRole.Mx, ImplicitTls: false),
            new("submission", options.SubmissionPort, ListenerRole.Submission, ImplicitTls: false),
            new("submissions", options.SubmissionsPort, ListenerRole.Submissions, ImplicitTls: true),
        ];
    }
}
