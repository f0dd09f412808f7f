using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using MailCluster.Queue.Protocol;
using Prometheus;

namespace MailCluster.Ops;

/// <summary>
/// The node's state as gauges, read when Prometheus scrapes (a before-collect callback, so nothing runs between
/// scrapes), declared in one block (STYLE habit 9): cluster membership as this node sees it, readiness and each
/// failing check, the shards and domain queues this node hosts, and the depth of those queues. Queue depth is per
/// node (the queues it hosts now), never per domain: domains are unbounded label values.
/// <para>Queue depth asks every domain queue hosted here for its status (one message each, sent to the live entity
/// actors only, so a scrape never starts or recovers a queue). Queues that do not answer within the scrape budget are
/// counted in <c>mailcluster_queue_status_unanswered</c> rather than guessed.</para>
/// </summary>
public sealed class NodeMetrics
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(3);

    private readonly Func<ActorSystem?> _system;
    private readonly Func<IActorRef?> _region;
    private readonly IReadOnlyList<ReadinessCheck> _checks;
    private readonly Dictionary<MemberStatus, Gauge.Child> _members;
    private readonly Gauge _unreachable;
    private readonly Gauge _leader;
    private readonly Gauge _ready;
    private readonly Dictionary<string, Gauge.Child> _checkFailing;
    private readonly Gauge _shards;
    private readonly Gauge _queues;
    private readonly Gauge _queueMessages;
    private readonly Gauge _queueRecipients;
    private readonly Gauge _inFlight;
    private readonly Gauge _unanswered;

    /// <param name="system">The actor system, or null while it is not started.</param>
    /// <param name="region">The domain-queue shard region (or proxy), or null while it is not started.</param>
    public NodeMetrics(CollectorRegistry registry, Func<ActorSystem?> system, Func<IActorRef?> region, IEnumerable<ReadinessCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(checks);
        _system = system;
        _region = region;
        _checks = [.. checks];
        var factory = Metrics.WithCustomRegistry(registry);
        var members = factory.CreateGauge(
            "mailcluster_cluster_members", "Cluster members as this node sees them, by member status (up, joining, leaving, exiting, down, ...).", ["status"]);
        _members = Enum.GetValues<MemberStatus>().Distinct().ToDictionary(s => s, s => members.WithLabels(s.ToString().ToLowerInvariant()));
        _unreachable = factory.CreateGauge(
            "mailcluster_cluster_unreachable_members", "Cluster members this node's failure detector marks unreachable.");
        _leader = factory.CreateGauge("mailcluster_cluster_leader", "1 when this node is the cluster leader, else 0.");
        _ready = factory.CreateGauge("mailcluster_ready", "1 when /healthz/ready would answer 200, else 0.");
        var failing = factory.CreateGauge(
            "mailcluster_readiness_check_failing", "1 when the readiness check is failing (its reason is in /healthz/ready), else 0.", ["check"]);
        _checkFailing = _checks.Select(c => c.Name).Distinct(StringComparer.Ordinal).ToDictionary(n => n, n => failing.WithLabels(n), StringComparer.Ordinal);
        _shards = factory.CreateGauge("mailcluster_shards_hosted", "Domain-queue shards hosted by this node.");
        _queues = factory.CreateGauge("mailcluster_domain_queues_hosted", "Domain-queue entities (domains, or buckets of one) running on this node.");
        _queueMessages = factory.CreateGauge("mailcluster_queue_messages", "Messages held by the domain queues running on this node (a message counts once per recipient domain).");
        _queueRecipients = factory.CreateGauge("mailcluster_queue_recipients", "Recipients not yet final in the domain queues running on this node.");
        _inFlight = factory.CreateGauge("mailcluster_queue_deliveries_in_flight", "Messages being delivered now by the domain queues running on this node.");
        _unanswered = factory.CreateGauge(
            "mailcluster_queue_status_unanswered", "Domain queues on this node that did not report their depth within the scrape budget (their depth is missing from the gauges).");
        registry.AddBeforeCollectCallback(UpdateAsync);
    }

    /// <summary>Refreshes every gauge; runs before each collection.</summary>
    public async Task UpdateAsync(CancellationToken cancellationToken)
    {
        var report = await Readiness.EvaluateAsync(_checks, Budget, cancellationToken).ConfigureAwait(false);
        _ready.Set(report.Ready ? 1 : 0);
        foreach (var (name, gauge) in _checkFailing)
        {
            gauge.Set(report.Failures.ContainsKey(name) ? 1 : 0);
        }

        if (_system() is not { } system)
        {
            return;
        }

        UpdateMembership(system);
        if (_region() is { } region)
        {
            await UpdateQueuesAsync(system, region, cancellationToken).ConfigureAwait(false);
        }
    }

    private void UpdateMembership(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        foreach (var (status, gauge) in _members)
        {
            gauge.Set(state.Members.Count(m => m.Status == status));
        }

        _unreachable.Set(state.Unreachable.Count);
        _leader.Set(state.Leader is { } leader && leader.Equals(cluster.SelfAddress) ? 1 : 0);
    }

    private async Task UpdateQueuesAsync(ActorSystem system, IActorRef region, CancellationToken cancellationToken)
    {
        CurrentShardRegionState shards;
        try
        {
            shards = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Budget, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            return; // the previous values stay; the region is busy or starting
        }

        var entities = shards.Shards.Sum(s => s.EntityIds.Count);
        _shards.Set(shards.Shards.Count);
        _queues.Set(entities);
        var statuses = entities == 0 ? [] : await CollectQueueStatusAsync(system, region, entities).ConfigureAwait(false);
        _queueMessages.Set(statuses.Sum(s => s.Messages));
        _queueRecipients.Set(statuses.Sum(s => s.Recipients));
        _inFlight.Set(statuses.Sum(s => s.InFlight));
        _unanswered.Set(Math.Max(0, entities - statuses.Count));
    }

    private static Task<IReadOnlyList<QueueStatus>> CollectQueueStatusAsync(ActorSystem system, IActorRef region, int expected)
    {
        var done = new TaskCompletionSource<IReadOnlyList<QueueStatus>>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new QueueStatusCollector(region.Path, expected, Budget, done)));
        return done.Task;
    }

    /// <summary>
    /// Sends <see cref="GetQueueStatus"/> to every live entity under the local region (<c>region/*/*</c>: shard, then
    /// entity) and gathers the answers until all expected arrived or the budget is spent.
    /// </summary>
    private sealed class QueueStatusCollector : ReceiveActor, IWithTimers
    {
        private readonly List<QueueStatus> _answers = [];
        private readonly ActorPath _region;
        private readonly TimeSpan _budget;
        private readonly TaskCompletionSource<IReadOnlyList<QueueStatus>> _done;

        public QueueStatusCollector(ActorPath region, int expected, TimeSpan budget, TaskCompletionSource<IReadOnlyList<QueueStatus>> done)
        {
            _region = region;
            _budget = budget;
            _done = done;
            Receive<QueueStatus>(s =>
            {
                _answers.Add(s);
                if (_answers.Count >= expected)
                {
                    Finish();
                }
            });
            Receive<BudgetSpent>(_ => Finish());
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            Timers.StartSingleTimer("budget", BudgetSpent.Instance, _budget);
            Context.ActorSelection(_region.ToStringWithoutAddress() + "/*/*").Tell(new GetQueueStatus("*"));
        }

        protected override void PostStop() => _done.TrySetResult([.. _answers]);

        private void Finish()
        {
            _done.TrySetResult([.. _answers]);
            Context.Stop(Self);
        }

        private sealed class BudgetSpent
        {
            public static readonly BudgetSpent Instance = new();
        }
    }
}
