// fp16_round -- combinational: round an exact fixed-point magnitude to IEEE binary16.
//
// Shared building block of fp16_fma and pim_dot16_fp16 (not a unit by itself).
// Input value = (-1)^sign * mag * 2^-48 (bit 0 of mag weighs 2^-48, the LSB of a product
// of two binary16 subnormals), exact. Output y = that value rounded to nearest, ties to
// even (RNE), with gradual underflow (subnormal results) and overflow to infinity.
// nan = 1 gives the canonical quiet NaN 0x7E00; else inf = 1 gives an infinity of sign
// `sign`; mag = 0 gives a zero of sign `sign` (the caller picks the IEEE zero sign).
// Model: accsim.functional.fp.round_to_format(sign, mag, -48, FP16).
`timescale 1ns/1ps
module fp16_round #(
    parameter W = 82                  // width of mag; the leading one may be anywhere
) (
    input  wire         sign,
    input  wire [W-1:0] mag,
    input  wire         nan,
    input  wire         inf,
    output reg  [15:0]  y
);
    // The kept LSB sits at bit `lsb` of mag: 10 bits below the leading one, but never
    // below bit 24 (2^-24, the binary16 subnormal LSB).
    integer i;
    integer lead;
    integer lsb;
    /* verilator lint_off UNUSEDSIGNAL */  // bits above the rounded significand are zero
    reg [W-1:0] kept;
    /* verilator lint_on UNUSEDSIGNAL */
    reg [W-1:0] below_mask;
    reg round_bit, sticky;
    reg [31:0] bits;

    always @* begin
        lead = 0;
        for (i = 0; i < W; i = i + 1)
            if (mag[i]) lead = i;
        lsb = (lead > 34) ? lead - 10 : 24;
        kept = mag >> lsb;
        round_bit = mag[lsb - 1];
        below_mask = ({{(W-1){1'b0}}, 1'b1} << (lsb - 1)) - {{(W-1){1'b0}}, 1'b1};
        sticky = |(mag & below_mask);
        // (lsb - 24) exponent steps above the subnormal range; a carry out of the rounded
        // significand moves into the exponent field by itself.
        bits = ((lsb - 24) << 10) + {20'd0, kept[11:0]}
               + {31'd0, round_bit & (sticky | kept[0])};
        if (nan)
            y = 16'h7E00;
        else if (inf || bits >= 32'h7C00)
            y = {sign, 15'h7C00};
        else if (mag == {W{1'b0}})
            y = {sign, 15'h0000};
        else
            y = {sign, bits[14:0]};
    end
endmodule
