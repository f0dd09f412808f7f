using System.Text;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>The session's records in the mail log (<see cref="MailLog"/>): what each one names, from the session's
/// facts. Called at the point where the event happens; the rules stay in the other parts of the session.</summary>
public sealed partial class SmtpSession
{
    private string Client => MailLog.ClientOf(_connection.Remote);

    private void LogAuth(bool succeeded, string? user, string? mechanism)
    {
        if (succeeded)
        {
            MailLog.AuthSucceeded(_services.MailLog, user ?? "-", mechanism ?? "-", Client, _connection.ConnectionId);
        }
        else
        {
            MailLog.AuthFailed(_services.MailLog, string.IsNullOrEmpty(user) ? "-" : user, mechanism ?? "-", Client, _connection.ConnectionId);
        }
    }

    /// <summary>A refused MAIL, RCPT or message: policy and content answers, not the bad-command ones (syntax,
    /// sequence: those are counted by <see cref="CountBad"/>, not logged one by one).</summary>
    private void LogRejected(string command, SmtpReply reply, string? sender = null, string? recipient = null)
    {
        if (reply.IsPositive || IsBadCommand(reply))
        {
            return;
        }

        MailLog.Rejected(_services.MailLog, command, Client, reply.Code, reply.EnhancedCode ?? "", reply.Text ?? "",
            sender ?? _mail?.ReversePath.Address ?? "", recipient ?? "", _connection.ConnectionId);
    }

    private void LogRejected(SmtpCommand command, SmtpReply reply)
    {
        switch (command)
        {
            case MailCommand mail:
                LogRejected("MAIL", reply, sender: mail.ReversePath.Address);
                break;
            case RcptCommand rcpt:
                LogRejected("RCPT", reply, recipient: rcpt.ForwardPath.Address);
                break;
        }
    }

    private void LogAccepted(string queueId, SessionData data, string? messageId)
    {
        if (!_services.MailLog.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information))
        {
            return; // the client's address is formatted only for the record
        }

        var sender = _mail?.ReversePath.Address ?? "";
        MailLog.Accepted(_services.MailLog, queueId, sender, data.Text.Length, _recipients.Count, messageId ?? "-", Client, _user?.Name ?? "-",
            _connection.ConnectionId);
    }
}
