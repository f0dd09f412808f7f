using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Sweep;
using Xunit;

namespace MailCluster.Queue.Tests.Sweep;

public sealed class OrphanSweepPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DomainBuckets Split = new(new Dictionary<string, int> { ["hot.test"] = 2 });

    private static AgedBody Body(string id, params string[] domains) => new(id, T0, domains);

    /// <summary>Every domain of <paramref name="bodies"/> with its configured entities, as a complete discovery that
    /// found no leftover bucket would give them.</summary>
    private static Dictionary<string, IReadOnlyList<string>> Entities(IEnumerable<AgedBody> bodies, DomainBuckets? buckets = null) =>
        bodies.SelectMany(b => b.Domains).Distinct(StringComparer.Ordinal)
            .ToDictionary(d => d, d => QueueEntities.Merge(buckets ?? DomainBuckets.None, d, []), StringComparer.Ordinal);

    private static SweepAnswers Answer(IEnumerable<FindHeldMessages> questions, Func<FindHeldMessages, IEnumerable<string>?> held)
    {
        var answers = new SweepAnswers();
        foreach (var q in questions)
        {
            answers.Record(q, held(q) is { } ids ? new HeldMessages(q.Queue.EntityId, [.. ids]) : null);
        }

        return answers;
    }

    /// <summary>The decision of a run that follows a run that got the same answers (the two-run rule satisfied
    /// wherever the answers allow).</summary>
    private static SweepDecision SecondRun(IReadOnlyList<AgedBody> bodies, bool committed, SweepAnswers answers, IReadOnlyDictionary<string, IReadOnlyList<string>> entities)
    {
        var first = new SweepSuspects();
        OrphanSweepPlan.Decide(bodies, committed, answers, entities, first);
        return OrphanSweepPlan.Decide(bodies, committed, answers, entities, first.Next());
    }

    [Fact]
    public void One_question_per_entity_of_each_domain_about_all_its_ids()
    {
        var bodies = new[] { Body("M1", "a.test", "hot.test"), Body("M2", "a.test"), Body("M3") };

        var questions = OrphanSweepPlan.Questions(bodies, Entities(bodies, Split));

        Assert.Equal(
            [("a.test", "M1,M2"), ("hot.test", "M1"), ("hot.test#0", "M1"), ("hot.test#1", "M1")],
            questions.Select(q => (q.Queue.EntityId, string.Join(',', q.MessageIds))));
    }

    [Fact]
    public void Buckets_found_above_the_configured_count_are_asked_and_can_hold_the_message()
    {
        // The count was lowered from 8 to 2: bucket #5 still holds M1, and discovery found it running.
        var bodies = new[] { Body("M1", "hot.test") };
        var entities = new Dictionary<string, IReadOnlyList<string>> { ["hot.test"] = QueueEntities.Merge(Split, "hot.test", [5]) };

        var questions = OrphanSweepPlan.Questions(bodies, entities);
        var answers = Answer(questions, q => q.Queue.EntityId == "hot.test#5" ? ["M1"] : []);
        var decision = SecondRun(bodies, committed: true, answers, entities);

        Assert.Equal(["hot.test", "hot.test#0", "hot.test#1", "hot.test#5"], questions.Select(q => q.Queue.EntityId));
        Assert.Empty(decision.Release);
        Assert.Equal(1, decision.Held);
    }

    [Fact]
    public void Long_id_lists_are_split_so_that_no_question_passes_the_budget()
    {
        var bodies = Enumerable.Range(0, 10).Select(i => Body($"ID{i:00000}", "a.test")).ToList(); // 7 characters each

        var questions = OrphanSweepPlan.Questions(bodies, Entities(bodies), maxIdChars: 21);

        Assert.Equal([3, 3, 3, 1], questions.Select(q => q.MessageIds.Count));
        Assert.Equal(bodies.Select(b => b.MessageId), questions.SelectMany(q => q.MessageIds));
    }

    [Fact]
    public void Committed_references_no_queue_holds_are_released_and_held_ones_kept()
    {
        var bodies = new[] { Body("M1", "a.test", "b.test"), Body("M2", "a.test") };
        var entities = Entities(bodies);
        var answers = Answer(OrphanSweepPlan.Questions(bodies, entities), q => q.Queue.EntityId == "a.test" ? ["M2"] : []);

        var decision = SecondRun(bodies, committed: true, answers, entities);

        Assert.Equal([new SpoolReference("M1", "a.test"), new SpoolReference("M1", "b.test")], decision.Release);
        Assert.Empty(decision.Delete);
        Assert.Equal((1, 0, 0), (decision.Held, decision.Undecided, decision.Suspected));
    }

    [Fact]
    public void An_unheld_reference_is_released_only_when_the_previous_run_found_it_unheld_too()
    {
        var bodies = new[] { Body("gone", "a.test"), Body("back", "a.test"), Body("late", "a.test") };
        var entities = Entities(bodies);
        var questions = OrphanSweepPlan.Questions(bodies, entities);

        // Run 1: nobody holds "gone" or "back" (the bucket holding "back" is between nodes); "late" is held.
        var run1 = new SweepSuspects();
        var first = OrphanSweepPlan.Decide(bodies, committed: true, Answer(questions, _ => ["late"]), entities, run1);
        Assert.Empty(first.Release);
        Assert.Equal((2, 1), (first.Suspected, first.Held));
        Assert.Equal((0, 2), (run1.Carried, run1.Found));

        // Run 2: "gone" is still un-held (released), "back" is held again (dropped), "late" is un-held for the first time.
        var run2 = run1.Next();
        var second = OrphanSweepPlan.Decide(bodies, committed: true, Answer(questions, _ => ["back"]), entities, run2);
        Assert.Equal([new SpoolReference("gone", "a.test")], second.Release);
        Assert.Equal((1, 1), (second.Suspected, second.Held));

        // Run 3: "back" un-held once more starts over: suspected, not released; "late" is confirmed.
        var run3 = run2.Next();
        Assert.Equal(1, run3.Carried);
        var third = OrphanSweepPlan.Decide(bodies[1..], committed: true, Answer(questions, _ => []), entities, run3);
        Assert.Equal([new SpoolReference("late", "a.test")], third.Release);
        Assert.Equal(1, third.Suspected);
    }

    [Fact]
    public void A_suspect_the_next_run_cannot_decide_is_dropped_not_released_later()
    {
        var bodies = new[] { Body("M1", "a.test") };
        var entities = Entities(bodies);
        var questions = OrphanSweepPlan.Questions(bodies, entities);

        var run1 = new SweepSuspects();
        OrphanSweepPlan.Decide(bodies, committed: true, Answer(questions, _ => []), entities, run1);
        var run2 = run1.Next();
        var silent = OrphanSweepPlan.Decide(bodies, committed: true, Answer(questions, _ => null), entities, run2);
        var run3 = run2.Next();
        var third = OrphanSweepPlan.Decide(bodies, committed: true, Answer(questions, _ => []), entities, run3);

        Assert.Equal((0, 1), (silent.Release.Count, silent.Undecided));
        Assert.Equal(0, run3.Carried);
        Assert.Empty(third.Release); // two un-held runs in a row are needed, not two in all
        Assert.Equal(1, third.Suspected);
    }

    [Fact]
    public void A_domain_whose_bucket_discovery_was_incomplete_is_neither_asked_nor_decided()
    {
        var bodies = new[] { Body("M1", "a.test", "hot.test"), Body("M2", "hot.test") };
        var entities = Entities(bodies, Split);
        entities.Remove("hot.test"); // a node did not say which buckets of hot.test it runs

        var questions = OrphanSweepPlan.Questions(bodies, entities);
        var answers = Answer(questions, _ => []);
        var decision = SecondRun(bodies, committed: true, answers, entities);
        var uncommitted = SecondRun(bodies, committed: false, answers, entities);

        Assert.Equal(["a.test"], questions.Select(q => q.Queue.EntityId));
        Assert.Equal([new SpoolReference("M1", "a.test")], decision.Release);
        Assert.Equal((2, 0), (decision.Skipped, decision.Undecided));
        Assert.Empty(uncommitted.Delete);
    }

    [Fact]
    public void Suspects_are_bounded_and_what_does_not_fit_waits_for_a_later_run()
    {
        var bodies = new[] { Body("M1", "a.test"), Body("M2", "a.test"), Body("M3", "a.test") };
        var entities = Entities(bodies);
        var answers = Answer(OrphanSweepPlan.Questions(bodies, entities), _ => []);

        var run1 = new SweepSuspects(capacity: 2);
        OrphanSweepPlan.Decide(bodies, committed: true, answers, entities, run1);
        var run2 = run1.Next();
        var second = OrphanSweepPlan.Decide(bodies, committed: true, answers, entities, run2);
        var third = OrphanSweepPlan.Decide(bodies, committed: true, answers, entities, run2.Next());

        Assert.Equal((2, 1), (run1.Found, run1.Overflowed));
        Assert.Equal(["M1", "M2"], second.Release.Select(r => r.MessageId));
        Assert.Equal(["M3"], third.Release.Select(r => r.MessageId));
    }

    [Fact]
    public void A_domain_whose_queue_did_not_answer_is_left_alone()
    {
        var bodies = new[] { Body("M1", "a.test", "silent.test"), Body("M2", "silent.test") };
        var entities = Entities(bodies);
        var answers = Answer(OrphanSweepPlan.Questions(bodies, entities), q => q.Queue.EntityId == "silent.test" ? null : []);

        var decision = SecondRun(bodies, committed: true, answers, entities);

        Assert.Equal([new SpoolReference("M1", "a.test")], decision.Release);
        Assert.Equal((0, 2), (decision.Held, decision.Undecided));
        Assert.Equal(["silent.test"], answers.Silent);
    }

    [Fact]
    public void A_split_domain_is_released_only_when_the_domain_and_every_bucket_said_no()
    {
        var bodies = new[] { Body("M1", "hot.test"), Body("M2", "hot.test"), Body("M3", "hot.test") };
        var entities = Entities(bodies, Split);
        var questions = OrphanSweepPlan.Questions(bodies, entities);

        // M1 is held by bucket 1, M2 by the unsplit entity (queued before the split), M3 by nobody.
        var answers = Answer(questions, q => q.Queue.EntityId switch
        {
            "hot.test#1" => ["M1"],
            "hot.test" => ["M2"],
            _ => [],
        });
        Assert.Equal([new SpoolReference("M3", "hot.test")], SecondRun(bodies, committed: true, answers, entities).Release);

        // One bucket silent: nothing of the domain is released, whatever the others said.
        var partial = Answer(questions, q => q.Queue.EntityId == "hot.test#0" ? null : []);
        var decision = SecondRun(bodies, committed: true, partial, entities);
        Assert.Empty(decision.Release);
        Assert.Equal(3, decision.Undecided);
    }

    [Fact]
    public void An_answer_from_another_entity_or_about_other_ids_decides_nothing()
    {
        var bodies = new[] { Body("M1", "a.test") };
        var answers = new SweepAnswers();
        answers.Record(new FindHeldMessages("a.test", ["M1"]), new HeldMessages("b.test", []));
        Assert.Equal(Holding.Unknown, answers.Holder("M1", ["a.test"]));
        Assert.Empty(SecondRun(bodies, committed: true, answers, Entities(bodies)).Release);

        var other = new SweepAnswers();
        other.Record(new FindHeldMessages("a.test", ["M9"]), new HeldMessages("a.test", []));
        Assert.Equal(Holding.Unknown, other.Holder("M1", ["a.test"]));
        Assert.Equal(Holding.No, other.Holder("M9", ["a.test"]));
    }

    [Fact]
    public void Uncommitted_bodies_are_deleted_only_when_every_domain_answered_and_none_holds_them()
    {
        var bodies = new[]
        {
            Body("orphan", "a.test", "b.test"),
            Body("abandoning", "a.test", "b.test"), // b.test still holds it (waiting out the commit grace)
            Body("unasked", "a.test", "silent.test"),
            Body("no-references"),
        };
        var entities = Entities(bodies);
        var answers = Answer(OrphanSweepPlan.Questions(bodies, entities), q => q.Queue.EntityId switch
        {
            "b.test" => ["abandoning"],
            "silent.test" => null,
            _ => [],
        });

        var first = new SweepSuspects();
        var suspected = OrphanSweepPlan.Decide(bodies, committed: false, answers, entities, first);
        var decision = OrphanSweepPlan.Decide(bodies, committed: false, answers, entities, first.Next());

        Assert.Empty(suspected.Delete);
        Assert.Equal(2, suspected.Suspected);
        Assert.Equal(["orphan", "no-references"], decision.Delete);
        Assert.Empty(decision.Release); // an uncommitted body goes whole, references with it
        Assert.Equal((1, 1), (decision.Held, decision.Undecided));
    }

    [Fact]
    public void A_committed_reference_and_an_uncommitted_body_of_the_same_id_are_separate_suspects()
    {
        var suspects = new SweepSuspects();
        Assert.False(suspects.Confirm(new SpoolReference("M1", "a.test")));
        var next = suspects.Next();
        Assert.False(next.Confirm(SweepSuspects.WholeBody("M1")));
        Assert.True(next.Confirm(new SpoolReference("M1", "a.test")));
    }
}
