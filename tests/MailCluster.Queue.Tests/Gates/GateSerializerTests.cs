using Akka.Actor;
using MailCluster.Queue.Gates;
using Xunit;

namespace MailCluster.Queue.Tests.Gates;

/// <summary>The gate messages cross nodes of possibly different releases: manifests are stable and a field added
/// later is optional.</summary>
public sealed class GateSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("gate-serializer-test");
    private readonly GateSerializer _serializer;

    public GateSerializerTests() => _serializer = new GateSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    [Fact]
    public void Recent_starts_and_a_grant_naming_its_gate_round_trip()
    {
        var starts = new GateRecentStarts("d.test", "node#1", [new RecentStart("g1", 12, 3)]);
        var back = (GateRecentStarts)_serializer.FromBinary(_serializer.ToBinary(starts), _serializer.Manifest(starts));
        Assert.Equal("mc.gate.recent-starts.v1", _serializer.Manifest(starts));
        Assert.Equal((starts.Domain, starts.Node), (back.Domain, back.Node));
        Assert.Equal(starts.Starts, back.Starts);

        var grant = new GateStarts("d.test", 2, null, "g1");
        Assert.Equal(grant, _serializer.FromBinary(_serializer.ToBinary(grant), "mc.gate.starts.v1"));
    }

    [Fact]
    public void A_grant_from_an_older_release_has_no_gate()
    {
        var old = "{\"domain\":\"d.test\",\"count\":1,\"retryAt\":null}"u8.ToArray();
        Assert.Equal(new GateStarts("d.test", 1, null), _serializer.FromBinary(old, "mc.gate.starts.v1"));
    }
}
