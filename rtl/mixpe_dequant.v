// mixpe_dequant -- MixPE per-group dequantization unit.
//
// Function: y = RNE16( s * RNE16(t) + y_in ),  t = psum - z * asum  (int32, wrapping)
//   psum: the raw shift-add sum of one output over one quantization group (int32);
//   asum: the sum of that group's activations of the output's row (int32), so that
//         z * asum removes the zero point: sum a (q - z) = psum - z * asum, exactly;
//   zero: the group's zero-point code (unsigned, 8 bits wide; a 4-bit code zero-extends);
//   scale, y_in, y: IEEE binary16 (the group's scale, the running output, the new output).
// Model: accsim.functional.mixpe.dequantize (bit for bit).
// Pipeline: stage 1 integer correction, stage 2 int32 -> binary16 (RNE, via fp16_round),
// then the 3-stage fp16_fma: a beat sampled with in_valid at rising edge e leaves on y with
// out_valid after edge e+4: latency 5 cycles, initiation interval 1 --
// accsim.functional.mixpe.MIXPE_TIMING["mixpe_dequant"] (the simulator's default
// dequant_latency of mixpe_array).
// Reset: synchronous, active high; clears the valid bits.
`timescale 1ns/1ps
module mixpe_dequant (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    input  wire signed [31:0] psum,
    input  wire signed [31:0] asum,
    input  wire [7:0]         zero,
    input  wire [15:0]        scale,
    input  wire [15:0]        y_in,
    output wire               out_valid,
    output wire [15:0]        y
);
    // ---- stage 1: t = psum - z * asum (low 32 bits) -------------------------------------
    wire signed [31:0] zero_ext = {24'd0, zero};
    wire signed [31:0] correction = zero_ext * asum;
    reg  signed [31:0] t1;
    reg  [15:0] s1, y1;
    reg  v1;
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
        end else begin
            v1 <= in_valid;
        end
        t1 <= psum - correction;
        s1 <= scale;
        y1 <= y_in;
    end

    // ---- stage 2: int32 -> binary16, round to nearest even ------------------------------
    wire [31:0] magnitude = t1[31] ? (~t1 + 32'd1) : t1;    // |-2^31| = 2^31 fits unsigned
    wire [15:0] t_half;
    fp16_round #(.W(82)) to_half (
        .sign(t1[31]), .mag({2'b00, magnitude, 48'd0}), .nan(1'b0), .inf(1'b0), .y(t_half));
    reg [15:0] t2, s2, y2;
    reg v2;
    always @(posedge clk) begin
        if (rst) begin
            v2 <= 1'b0;
        end else begin
            v2 <= v1;
        end
        t2 <= t_half;
        s2 <= s1;
        y2 <= y1;
    end

    // ---- stages 3-5: y = RNE16(s * t + y_in) ---------------------------------------------
    fp16_fma apply_scale (
        .clk(clk), .rst(rst), .in_valid(v2), .a(s2), .b(t2), .c(y2), .out_valid(out_valid), .y(y));
endmodule
