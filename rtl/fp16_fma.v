// fp16_fma -- IEEE binary16 fused multiply-add, y = RNE(a*b + c), 3-stage pipeline.
//
// Arithmetic: the exact value of a*b + c is formed on an 82-bit fixed-point grid with
// LSB 2^-48 (so no bit is ever lost before the single rounding), then rounded to nearest,
// ties to even, by fp16_round. Subnormal inputs and outputs are exact IEEE (no flush to
// zero). NaN: any NaN input, inf*0, or inf + (-inf) gives the canonical quiet NaN 0x7E00
// (payloads are not propagated). Inf: an infinite product or c gives inf of its sign;
// overflow rounds to inf. Zero sign: an exact zero of nonzero terms is +0; a zero product
// plus a zero c is -0 only if both are -0.
// Model: accsim.functional.fp.fp16_fma (bit for bit).
// Handshake: valid-only. A beat (a, b, c) sampled with in_valid at rising edge t leaves
// on y with out_valid high after edge t+2: latency 3 cycles, initiation interval 1
// (a new beat every cycle) -- accsim.functional.timing.UNIT_TIMING["fp16_fma"].
// Stages: 1 decode + significand multiply, 2 align + signed add, 3 normalise + round.
// Reset: synchronous, active high; clears the valid bits.
`timescale 1ns/1ps
module fp16_fma (
    input  wire        clk,
    input  wire        rst,
    input  wire        in_valid,
    input  wire [15:0] a,
    input  wire [15:0] b,
    input  wire [15:0] c,
    output wire        out_valid,
    output wire [15:0] y
);
    localparam W = 82;

    // ---- stage 1: decode, multiply significands ----------------------------------------
    wire a_sub = (a[14:10] == 5'd0), b_sub = (b[14:10] == 5'd0), c_sub = (c[14:10] == 5'd0);
    wire a_max = (a[14:10] == 5'h1F), b_max = (b[14:10] == 5'h1F), c_max = (c[14:10] == 5'h1F);
    wire a_nan = a_max && a[9:0] != 10'd0, b_nan = b_max && b[9:0] != 10'd0, c_nan = c_max && c[9:0] != 10'd0;
    wire a_inf = a_max && a[9:0] == 10'd0, b_inf = b_max && b[9:0] == 10'd0, c_inf = c_max && c[9:0] == 10'd0;
    wire a_zero = a[14:0] == 15'd0, b_zero = b[14:0] == 15'd0, c_zero = c[14:0] == 15'd0;
    // significand with hidden bit; subnormals use the exponent of the smallest normal (1)
    wire [10:0] ma = {~a_sub, a[9:0]}, mb = {~b_sub, b[9:0]}, mc = {~c_sub, c[9:0]};
    wire [4:0]  ea = a_sub ? 5'd1 : a[14:10], eb = b_sub ? 5'd1 : b[14:10], ec = c_sub ? 5'd1 : c[14:10];
    wire sp = a[15] ^ b[15];
    wire p_inf = a_inf || b_inf;
    wire nan_in = a_nan || b_nan || c_nan || (a_inf && b_zero) || (b_inf && a_zero)
                  || (p_inf && c_inf && sp != c[15]);

    reg        s1_valid, s1_sp, s1_sc, s1_nan, s1_inf, s1_inf_sign, s1_pzero, s1_czero;
    reg [21:0] s1_mp;
    reg [5:0]  s1_ep;
    reg [10:0] s1_mc;
    reg [4:0]  s1_ec;
    always @(posedge clk) begin
        if (rst) s1_valid <= 1'b0;
        else s1_valid <= in_valid;
        s1_sp <= sp;
        s1_sc <= c[15];
        s1_mp <= ma * mb;
        s1_ep <= {1'b0, ea} + {1'b0, eb};
        s1_mc <= mc;
        s1_ec <= ec;
        s1_nan <= nan_in;
        s1_inf <= p_inf || c_inf;
        s1_inf_sign <= p_inf ? sp : c[15];
        s1_pzero <= a_zero || b_zero;
        s1_czero <= c_zero;
    end

    // ---- stage 2: align both terms on the 2^-48 grid, signed add -----------------------
    // a*b = mp * 2^(ep - 50) -> shift ep - 2; c = mc * 2^(ec - 25) -> shift ec + 23
    wire [W-1:0] p_fix = {{(W-22){1'b0}}, s1_mp} << (s1_ep - 6'd2);
    wire [W-1:0] c_fix = {{(W-11){1'b0}}, s1_mc} << ({1'b0, s1_ec} + 6'd23);
    wire same_sign = (s1_sp == s1_sc);
    wire p_larger = (p_fix >= c_fix);
    wire [W-1:0] sum = same_sign ? p_fix + c_fix : (p_larger ? p_fix - c_fix : c_fix - p_fix);
    wire sum_sign = same_sign ? s1_sp : (p_larger ? s1_sp : s1_sc);
    wire zero_sign = (s1_pzero && s1_czero) ? (s1_sp && s1_sc) : 1'b0;

    reg          s2_valid, s2_sign, s2_nan, s2_inf;
    reg [W-1:0]  s2_mag;
    always @(posedge clk) begin
        if (rst) s2_valid <= 1'b0;
        else s2_valid <= s1_valid;
        s2_mag <= sum;
        s2_sign <= s1_inf ? s1_inf_sign : (sum == {W{1'b0}} ? zero_sign : sum_sign);
        s2_nan <= s1_nan;
        s2_inf <= s1_inf;
    end

    // ---- stage 3: normalise and round --------------------------------------------------
    wire [15:0] rounded;
    fp16_round #(.W(W)) round (.sign(s2_sign), .mag(s2_mag), .nan(s2_nan), .inf(s2_inf), .y(rounded));

    reg        s3_valid;
    reg [15:0] s3_y;
    always @(posedge clk) begin
        if (rst) s3_valid <= 1'b0;
        else s3_valid <= s2_valid;
        s3_y <= rounded;
    end
    assign out_valid = s3_valid;
    assign y = s3_y;
endmodule
