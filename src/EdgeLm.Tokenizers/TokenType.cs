namespace EdgeLm.Tokenizers;

/// <summary>The kind of a vocabulary entry, with the values GGUF stores in tokenizer.ggml.token_type.</summary>
public enum TokenType
{
    /// <summary>No type given; treated like an unused entry.</summary>
    Undefined = 0,
    /// <summary>An ordinary piece of text.</summary>
    Normal = 1,
    /// <summary>The unknown-token placeholder (e.g. &lt;unk&gt;).</summary>
    Unknown = 2,
    /// <summary>A control token (BOS, EOS, chat markers): never produced from plain text unless special tokens are parsed.</summary>
    Control = 3,
    /// <summary>A user-defined token: always matched literally in the input, before the model's own algorithm runs.</summary>
    UserDefined = 4,
    /// <summary>An entry reserved but not used.</summary>
    Unused = 5,
    /// <summary>A byte-fallback token &lt;0xXX&gt; standing for one raw byte.</summary>
    Byte = 6,
}
