using Akka.Actor;
using MailCluster.Edge.Auth;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Tests.Session;
using MailCluster.Edge.Tls;
using MailCluster.Edge.WarmUp;
using MailCluster.Queue.Acceptance;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using Xunit;

namespace MailCluster.Edge.Tests.WarmUp;

/// <summary>The start-up warm-up runs whole transactions through the real connection, session and session actor, and
/// none of them reaches the node's acceptor, metrics or relay policy (issue 18: nothing real is stored).</summary>
public sealed class SmtpWarmUpTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("warm-up-test");
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

    [Fact]
    public async Task Every_synthetic_message_is_answered_250_and_none_reaches_the_node()
    {
        var node = new SessionHarness.RecordingAcceptor();
        var metrics = new EdgeMetrics(Prometheus.Metrics.WithCustomRegistry(_registry));
        var services = Services(node, metrics);

        var accepted = await SmtpWarmUp.RunAsync(services, _system, sessions: 3, messagesPerSession: 2, TestContext.Current.CancellationToken);

        Assert.Equal(6, accepted);
        Assert.Empty(node.Accepted);
        Assert.Equal(0, metrics.For(ListenerRole.Mx).MessagesAccepted.Value);
        Assert.Equal(0, metrics.For(ListenerRole.Mx).Connections.Value);
    }

    [Fact]
    public async Task The_discarding_acceptor_answers_later_as_the_nodes_acceptor_does()
    {
        // Answered from a timer, not at once: the session's awaits on the acceptance suspend in the warm-up as they do
        // for a client (and are compiled then).
        var answer = new SmtpWarmUp.DiscardingAcceptor().AcceptAsync("Q1", "s@warm-up.invalid", ["r@warm-up.invalid"], null, new byte[10], TestContext.Current.CancellationToken);

        Assert.False(answer.IsCompleted);
        Assert.Equal((AcceptOutcome.Accepted, "Q1"), ((await answer).Outcome, (await answer).MessageId));
    }

    [Fact]
    public void The_isolated_services_accept_only_the_warm_up_domain()
    {
        var isolated = SmtpWarmUp.Isolate(Services(new SessionHarness.RecordingAcceptor(), EdgeMetrics.Detached));

        Assert.True(isolated.Policy.IsAcceptedDomain(SmtpWarmUp.Domain));
        Assert.False(isolated.Policy.IsAcceptedDomain("example.test"));
        Assert.IsType<SmtpWarmUp.DiscardingAcceptor>(isolated.Acceptor);
    }

    [Fact]
    public async Task A_cancelled_warm_up_runs_no_session()
    {
        var node = new SessionHarness.RecordingAcceptor();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.Equal(0, await SmtpWarmUp.RunAsync(Services(node, EdgeMetrics.Detached), _system, 5, 2, cancelled.Token));
    }

    public void Dispose() => _system.Dispose();

    /// <summary>A node's services: it relays for example.test only, and its acceptor records what reaches it.</summary>
    private static EdgeServices Services(SessionHarness.RecordingAcceptor acceptor, EdgeMetrics metrics)
    {
        var smtp = new SmtpOptions();
        var domains = new DomainsOptions();
        domains.Local.Add("example.test");
        return new EdgeServices(
            "mx.test",
            smtp,
            new RelayPolicy(domains, smtp),
            acceptor,
            TimeProvider.System,
            new CertificateProvider(null, null, "mx.test", NullLogger.Instance),
            new ConnectionLimiter(10, 10),
            new UserDirectory([]),
            CancellationToken.None,
            CancellationToken.None)
        {
            Metrics = metrics,
        };
    }
}
