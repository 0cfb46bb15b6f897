// pim_dot16_fp16 -- 16-lane FP16 dot-product-accumulate unit of a PIM bank, 3 stages.
//
// Each beat: acc <= RNE(acc + sum_{i<16} a_i * b_i), IEEE binary16 in and out. The 16
// products and acc are summed exactly (fixed point, LSB 2^-48, 88-bit two's complement)
// and rounded once, to nearest, ties to even (fp16_round) -- a fused dot product, so
// the result does not depend on the order of the lanes. Subnormals are exact (no flush to
// zero). NaN: any NaN operand, any inf*0, or infinities of both signs among the products
// and acc give the canonical quiet NaN 0x7E00. Inf: infinities of one sign give that
// infinity; overflow rounds to inf. Zero sign: an exact zero of nonzero terms is +0; if
// every term is zero the result is -0 only when all of them are -0.
// `first` starts a new accumulation: that beat uses -0 (the additive identity) instead of
// acc. Lane i of a is a[16*i +: 16] (likewise b).
// Model: accsim.functional.fp.fp16_dot_accumulate (bit for bit).
// Handshake: valid-only. A beat sampled with in_valid at rising edge t updates acc_out
// (with out_valid high for one cycle) after edge t+2: latency 3 cycles, initiation
// interval 1 -- the accumulator is added in the last stage, so consecutive beats of one
// accumulation can follow each other every cycle (UNIT_TIMING["pim_dot16_fp16"]).
// Stages: 1 decode + 16 significand multiplies, 2 align + exact sum of the products,
// 3 add acc + round into the acc register.
// Reset: synchronous, active high; clears the valid bits and acc (+0).
`timescale 1ns/1ps
module pim_dot16_fp16 (
    input  wire          clk,
    input  wire          rst,
    input  wire          in_valid,
    input  wire          first,
    input  wire [255:0]  a,
    input  wire [255:0]  b,
    output wire          out_valid,
    output wire [15:0]   acc_out
);
    localparam LANES = 16;
    localparam SW = 88;                  // signed sum width: 16 products < 2^84, acc < 2^65

    // ---- stage 1: decode and multiply each lane ----------------------------------------
    reg              s1_valid, s1_first;
    reg [21:0]       s1_mp   [0:LANES-1];
    reg [5:0]        s1_ep   [0:LANES-1];
    reg [LANES-1:0]  s1_sp, s1_pzero;
    reg              s1_nan, s1_pos_inf, s1_neg_inf;

    wire [LANES-1:0] lane_nan, lane_pos_inf, lane_neg_inf, lane_zero, lane_sign;
    wire [21:0]      lane_mp [0:LANES-1];
    wire [5:0]       lane_ep [0:LANES-1];
    genvar g;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            wire [15:0] x = a[16*g +: 16];
            wire [15:0] z = b[16*g +: 16];
            wire x_sub = (x[14:10] == 5'd0), z_sub = (z[14:10] == 5'd0);
            wire x_max = (x[14:10] == 5'h1F), z_max = (z[14:10] == 5'h1F);
            wire x_inf = x_max && x[9:0] == 10'd0, z_inf = z_max && z[9:0] == 10'd0;
            wire x_zero = x[14:0] == 15'd0, z_zero = z[14:0] == 15'd0;
            wire sign = x[15] ^ z[15];
            wire p_inf = x_inf || z_inf;
            assign lane_sign[g] = sign;
            assign lane_zero[g] = x_zero || z_zero;
            assign lane_nan[g] = (x_max && x[9:0] != 10'd0) || (z_max && z[9:0] != 10'd0)
                                 || (x_inf && z_zero) || (z_inf && x_zero);
            assign lane_pos_inf[g] = p_inf && !sign;
            assign lane_neg_inf[g] = p_inf && sign;
            assign lane_mp[g] = {~x_sub, x[9:0]} * {~z_sub, z[9:0]};
            assign lane_ep[g] = {1'b0, x_sub ? 5'd1 : x[14:10]} + {1'b0, z_sub ? 5'd1 : z[14:10]};
        end
    endgenerate

    integer i;
    always @(posedge clk) begin
        if (rst) s1_valid <= 1'b0;
        else s1_valid <= in_valid;
        s1_first <= first;
        for (i = 0; i < LANES; i = i + 1) begin
            s1_mp[i] <= lane_mp[i];
            s1_ep[i] <= lane_ep[i];
        end
        s1_sp <= lane_sign;
        s1_pzero <= lane_zero;
        s1_nan <= |lane_nan;
        s1_pos_inf <= |lane_pos_inf;
        s1_neg_inf <= |lane_neg_inf;
    end

    // ---- stage 2: align every product on the 2^-48 grid and sum exactly ----------------
    reg signed [SW-1:0] product_sum;
    reg [SW-1:0] aligned;
    always @* begin
        product_sum = {SW{1'b0}};
        for (i = 0; i < LANES; i = i + 1) begin
            aligned = {{(SW-22){1'b0}}, s1_mp[i]} << (s1_ep[i] - 6'd2);
            product_sum = s1_sp[i] ? product_sum - $signed(aligned) : product_sum + $signed(aligned);
        end
    end

    reg                 s2_valid, s2_first, s2_nan, s2_pos_inf, s2_neg_inf, s2_all_zero, s2_all_neg;
    reg signed [SW-1:0] s2_sum;
    always @(posedge clk) begin
        if (rst) s2_valid <= 1'b0;
        else s2_valid <= s1_valid;
        s2_first <= s1_first;
        s2_sum <= product_sum;
        s2_nan <= s1_nan;
        s2_pos_inf <= s1_pos_inf;
        s2_neg_inf <= s1_neg_inf;
        s2_all_zero <= &s1_pzero;
        s2_all_neg <= &s1_sp;
    end

    // ---- stage 3: add the accumulator, round, write back -------------------------------
    reg  [15:0] acc;
    wire [15:0] acc_term = s2_first ? 16'h8000 : acc;
    wire acc_sub = (acc_term[14:10] == 5'd0), acc_max = (acc_term[14:10] == 5'h1F);
    wire acc_nan = acc_max && acc_term[9:0] != 10'd0;
    wire acc_inf = acc_max && acc_term[9:0] == 10'd0;
    wire acc_zero = acc_term[14:0] == 15'd0;
    wire [4:0] acc_e = acc_sub ? 5'd1 : acc_term[14:10];
    wire [SW-1:0] acc_fix = {{(SW-11){1'b0}}, ~acc_sub, acc_term[9:0]} << ({1'b0, acc_e} + 6'd23);
    wire signed [SW-1:0] total = acc_term[15] ? s2_sum - $signed(acc_fix) : s2_sum + $signed(acc_fix);
    wire pos_inf = s2_pos_inf || (acc_inf && !acc_term[15]);
    wire neg_inf = s2_neg_inf || (acc_inf && acc_term[15]);
    wire nan = s2_nan || acc_nan || (pos_inf && neg_inf);
    wire inf = pos_inf || neg_inf;
    wire total_zero = (total == {SW{1'b0}});
    wire zero_sign = (s2_all_zero && acc_zero) ? (s2_all_neg && acc_term[15]) : 1'b0;
    wire out_sign = inf ? neg_inf : (total_zero ? zero_sign : total[SW-1]);
    /* verilator lint_off UNUSEDSIGNAL */  // the sign bit of -total is known to be 0 here
    wire [SW-1:0] neg_total = -total;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [SW-2:0] magnitude = total[SW-1] ? neg_total[SW-2:0] : total[SW-2:0];
    wire [15:0] rounded;
    fp16_round #(.W(SW-1)) round (.sign(out_sign), .mag(magnitude), .nan(nan), .inf(inf),
                                  .y(rounded));

    reg s3_valid;
    always @(posedge clk) begin
        if (rst) begin
            s3_valid <= 1'b0;
            acc <= 16'h0000;
        end else begin
            s3_valid <= s2_valid;
            if (s2_valid) acc <= rounded;
        end
    end
    assign out_valid = s3_valid;
    assign acc_out = acc;
endmodule
