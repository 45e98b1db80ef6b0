namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>A clock stopped at one instant, in UTC, for <c>strftime_now</c>.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    /// <summary>The instant the golden files were rendered at (see tests/tools/chat-template-goldens/render.mjs).</summary>
    public static FixedClock GoldenInstant { get; } = new(new DateTimeOffset(2024, 7, 26, 12, 0, 0, TimeSpan.Zero));

    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
