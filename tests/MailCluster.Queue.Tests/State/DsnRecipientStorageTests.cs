using System.Text;
using Akka.Actor;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>
/// <see cref="DsnRecipient.OriginalRecipientXtext"/> (issue 17: ORCPT relayed as received) was added to a record inside
/// the persisted <see cref="Enqueued"/> event (mc.queue.enqueued.v1). An Enqueued written by the previous release, without
/// it, must still read (the field is then null) and write back unchanged; one written now carries it.
/// </summary>
public sealed class DsnRecipientStorageTests : IDisposable
{
    private const string Manifest = "mc.queue.enqueued.v1";

    /// <summary>As release 8fbe274 wrote it (the approved shape in <see cref="QueueSerializerTests"/>).</summary>
    private const string PreviousRelease =
        """{"domain":"example.com","messageId":"M2","sender":"","recipients":["a@example.com"],"arrivedAt":"2026-11-29T12:00:00+00:00","dsn":{"ret":"HDRS","envId":"env-1","recipients":[{"address":"a@example.com","notify":"FAILURE,DELAY","originalRecipient":"rfc822;A@example.com"}]}}""";

    /// <summary>System.Text.Json's default encoder writes "+" as \u002B; either form reads back the same.</summary>
    private const string WithWireForm =
        """{"domain":"example.com","messageId":"M3","sender":"s@x.test","recipients":["a@example.com"],"arrivedAt":"2026-11-29T12:00:00+00:00","dsn":{"recipients":[{"address":"a@example.com","originalRecipient":"rfc822;AAB@example.com","originalRecipientXtext":"rfc822;A\u002B41B@example.com"}]}}""";

    private readonly ActorSystem _system = ActorSystem.Create("dsn-recipient-storage");
    private readonly QueueSerializer _serializer;

    public DsnRecipientStorageTests() => _serializer = new QueueSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    [Fact]
    public void An_enqueued_event_of_the_previous_release_reads_without_the_wire_form_and_writes_back_unchanged()
    {
        var enqueued = Assert.IsType<Enqueued>(_serializer.FromBinary(Encoding.UTF8.GetBytes(PreviousRelease), Manifest));

        var recipient = Assert.Single(enqueued.Dsn!.Recipients);
        Assert.Equal(new DsnRecipient("a@example.com", "FAILURE,DELAY", "rfc822;A@example.com"), recipient);
        Assert.Null(recipient.OriginalRecipientXtext);
        Assert.Equal(PreviousRelease, Encoding.UTF8.GetString(_serializer.ToBinary(enqueued)));
    }

    [Fact]
    public void An_enqueued_event_with_the_wire_form_round_trips_it()
    {
        var written = new Enqueued("example.com", "M3", "s@x.test", ["a@example.com"], new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
            new DsnEnvelope(null, null, [new DsnRecipient("a@example.com", null, "rfc822;AAB@example.com", "rfc822;A+41B@example.com")]));

        Assert.Equal(Manifest, _serializer.Manifest(written));
        Assert.Equal(WithWireForm, Encoding.UTF8.GetString(_serializer.ToBinary(written)));
        var back = Assert.IsType<Enqueued>(_serializer.FromBinary(Encoding.UTF8.GetBytes(WithWireForm), Manifest));
        Assert.Equal("rfc822;A+41B@example.com", Assert.Single(back.Dsn!.Recipients).OriginalRecipientXtext);
    }

    [Fact]
    public void The_envid_wire_form_is_written_only_when_known_and_round_trips()
    {
        var written = new Enqueued("example.com", "M4", "s@x.test", ["a@example.com"], new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
            new DsnEnvelope("HDRS", "QAQ", []) { EnvIdXtext = "Q+41Q" });

        Assert.Equal(Manifest, _serializer.Manifest(written));
        var back = Assert.IsType<Enqueued>(_serializer.FromBinary(_serializer.ToBinary(written), Manifest));
        Assert.Equal(("QAQ", "Q+41Q"), (back.Dsn!.EnvId, back.Dsn.EnvIdXtext));
        var old = Assert.IsType<Enqueued>(_serializer.FromBinary(Encoding.UTF8.GetBytes(PreviousRelease), Manifest));
        Assert.Null(old.Dsn!.EnvIdXtext);
    }
}
