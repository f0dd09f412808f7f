using System.Collections.Concurrent;
using Akka.Actor;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Spool;

namespace MailCluster.Queue.Tests.Actors;

/// <summary>What a domain queue needs, with nothing behind it: no spool bodies, no destination (deliveries are not
/// started in these tests: a new message waits for its commit nudge first).</summary>
public static class QueueTestServices
{
    public static QueueServices Create(IActorRef? domainQueues = null) => new(
        new MemorySpool(),
        new NoConnector(),
        new RetryPolicy(new RetryOptions { InitialSeconds = 60, Jitter = 0 }),
        new QueueOptions(),
        TimeProvider.System,
        () => domainQueues ?? ActorRefs.Nobody,
        "mc.test");

    public static string Config(string journalClass) => $$"""
        akka.loglevel = INFO
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.journal.test {
          class = "{{journalClass}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """;

    private sealed class NoConnector : IDeliveryConnector
    {
        public Task<ConnectResult> ConnectAsync(string domain, CancellationToken cancellationToken) =>
            Task.FromResult(ConnectResult.Failed(new ConnectFailure(OutcomeKind.Transient, 0, "4.4.1", "no destination in this test", null, true)));

        public DomainShaping ShapingFor(string domain) => new(1, 10, null, TimeSpan.FromSeconds(1));
    }

    private sealed class MemorySpool : ISpoolStore
    {
        private readonly ConcurrentDictionary<string, byte> _released = new(StringComparer.Ordinal);

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task WriteAsync(string messageId, ReadOnlyMemory<byte> body, IReadOnlyCollection<string> domains, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CommitAsync(string messageId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SpoolEntry> ReadAsync(string messageId, CancellationToken cancellationToken) => Task.FromResult(SpoolEntry.Missing);

        public Task ReleaseAsync(string messageId, string domain, CancellationToken cancellationToken)
        {
            _released[messageId] = 0;
            return Task.CompletedTask;
        }

        public Task DeleteUncommittedAsync(string messageId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
