using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge;

/// <summary>The drain phase between "stop requested" and "stop the host": waits until every SMTP session has
/// ended (sessions see the shutdown token and answer 421 4.3.2) or the drain timeout has passed.</summary>
public static partial class SessionDrain
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Returns at once on nodes without the <see cref="EdgeHosting.Role"/> role (no SMTP listeners).</summary>
    public static async Task WaitAsync(IServiceProvider services, SmtpOptions smtp, IReadOnlyCollection<string> roles)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(smtp);
        ArgumentNullException.ThrowIfNull(roles);
        if (!roles.Contains(EdgeHosting.Role))
        {
            return;
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SessionDrain));
        EdgeServices edge;
        try
        {
            edge = services.GetRequiredService<EdgeServices>();
        }
        catch (InvalidOperationException ex)
        {
            LogNoEdge(logger, ex);
            return;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(smtp.DrainTimeoutSeconds);
        LogDraining(logger, edge.Limiter.Open);
        while (edge.Limiter.Open > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(Poll).ConfigureAwait(false);
        }

        LogDrained(logger, edge.Limiter.Open);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: {Sessions} SMTP sessions open; new sessions get 421 4.3.2")]
    private static partial void LogDraining(ILogger logger, int sessions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drain finished with {Sessions} SMTP sessions still open; stopping")]
    private static partial void LogDrained(ILogger logger, int sessions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP sessions could not be drained: the edge was never started")]
    private static partial void LogNoEdge(ILogger logger, Exception ex);
}
