namespace EdgeLm.Tokenizers.Internal;

/// <summary>Per-token attribute bits, as llama.cpp derives them from the token type and a few known token texts.</summary>
[Flags]
internal enum TokenAttributes
{
    None = 0,
    Undefined = 1 << 0,
    Unknown = 1 << 1,
    Unused = 1 << 2,
    Normal = 1 << 3,
    Control = 1 << 4,
    UserDefined = 1 << 5,
    Byte = 1 << 6,
    /// <summary>When matched in text, whitespace before the token is dropped.</summary>
    LStrip = 1 << 9,
    /// <summary>When matched in text, whitespace after the token is dropped.</summary>
    RStrip = 1 << 10,
}

internal static class TokenAttributesExtensions
{
    public static TokenAttributes FromType(TokenType type) => type switch
    {
        TokenType.Normal => TokenAttributes.Normal,
        TokenType.Unknown => TokenAttributes.Unknown,
        TokenType.Control => TokenAttributes.Control,
        TokenType.UserDefined => TokenAttributes.UserDefined,
        TokenType.Unused => TokenAttributes.Unused,
        TokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };

    public static bool Has(this TokenAttributes attributes, TokenAttributes any) => (attributes & any) != 0;
}
