using Akka.Actor;
using Xunit;

namespace MailCluster.Events.Tests;

/// <summary><see cref="RestartingSingleton"/>: an actor whose start throws (as the projector did when the read
/// journal's start-up ask timed out) or that fails later is started again, and messages reach the new incarnation.</summary>
public sealed class RestartingSingletonTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("restarting-singleton", "akka.loglevel = OFF");

    [Fact]
    public async Task An_actor_whose_start_throws_is_started_again()
    {
        var probe = new Probe(failStarts: 2);
        var singleton = _system.ActorOf(RestartingSingleton.Props(Props.Create(() => new Flaky(probe)), "child"));

        // Two failed starts: backoff 1 s then 2 s (±20 %); then the third start succeeds and answers.
        Assert.Equal(3, await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal("pong 3", await singleton.Ask<string>("ping", TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_actor_that_fails_later_is_restarted_and_keeps_answering()
    {
        var probe = new Probe(failStarts: 0);
        var singleton = _system.ActorOf(RestartingSingleton.Props(Props.Create(() => new Flaky(probe)), "child"));
        Assert.Equal("pong 1", await singleton.Ask<string>("ping", TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        // While the supervisor waits out the backoff there is no child and a message is dropped: ask again.
        singleton.Tell("crash");
        string? answer = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((answer is null or "pong 1") && DateTime.UtcNow < deadline)
        {
            try
            {
                answer = await singleton.Ask<string>("ping", TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            }
            catch (AskTimeoutException)
            {
                answer = null;
            }
        }

        Assert.Equal("pong 2", answer);
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _system.Terminate();

    private sealed class Probe(int failStarts)
    {
        private int _starts;

        public TaskCompletionSource<int> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int NextStart() => Interlocked.Increment(ref _starts);

        public bool ShouldFail(int start) => start <= failStarts;
    }

    private sealed class Flaky : ReceiveActor
    {
        private readonly int _incarnation;

        public Flaky(Probe probe)
        {
            _incarnation = probe.NextStart();
            if (probe.ShouldFail(_incarnation))
            {
                throw new InvalidOperationException($"start {_incarnation} fails");
            }

            probe.Started.TrySetResult(_incarnation);
            Receive<string>(m => m == "ping", _ => Sender.Tell($"pong {_incarnation}"));
            Receive<string>(m => m == "crash", _ => throw new InvalidOperationException("crash"));
        }
    }
}
