namespace EdgeLm.Runtime.Grammar;

// The parsed form of a GBNF text, before it is compiled to byte terminals. Positions are 1-based, for errors.

/// <summary>One item of a rule's sequence.</summary>
internal abstract record GbnfItem(int Line, int Column);

/// <summary>A string literal: the code points to match in order (empty matches nothing, i.e. always succeeds).</summary>
internal sealed record GbnfLiteral(int[] CodePoints, int Line, int Column) : GbnfItem(Line, Column);

/// <summary>A character class; <c>.</c> is the negated empty class. Ranges are inclusive code point ranges.</summary>
internal sealed record GbnfClass(List<(int Low, int High)> Ranges, bool Negated, int Line, int Column) : GbnfItem(Line, Column);

/// <summary>A reference to a rule by name.</summary>
internal sealed record GbnfReference(string Name, int Line, int Column) : GbnfItem(Line, Column);

/// <summary>A parenthesised group of alternatives.</summary>
internal sealed record GbnfGroup(List<List<GbnfItem>> Alternatives, int Line, int Column) : GbnfItem(Line, Column);

/// <summary>An item repeated <see cref="Min"/> to <see cref="Max"/> times; <see cref="Max"/> is -1 when unbounded.</summary>
internal sealed record GbnfRepeat(GbnfItem Item, int Min, int Max, int Line, int Column) : GbnfItem(Line, Column);

/// <summary>A rule definition: <c>name ::= alternative | alternative ...</c>.</summary>
internal sealed record GbnfRule(string Name, List<List<GbnfItem>> Alternatives, int Line, int Column);
