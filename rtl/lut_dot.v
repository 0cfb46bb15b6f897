// lut_dot -- LUT dot-product columns of one LMMA array (LUT Tensor Core), integer tables.
//
// Per cycle one weight bit-plane: for every row m (M rows) and column j (N columns) the
// four weight bits of column j at this bit position form the index {w3 w2 w1 w0}; bits
// [3:1] select one of the row's 8 symmetrized table entries, bit 0 = 0 negates the entry
// and inverts the select bits (entry(~i) = -entry(i)); the value is shifted left by the
// bit position `bit` and added into the accumulator of (m, j). T[j] = a0 + sum_{i=1..3}
// (j_{i-1} ? a_i : -a_i) for the row's four activations a0..a3 (accsim.functional.lut).
// `first` marks the first bit-plane of a chain: the accumulator is seeded from `c`
// instead of its own value (chains of LMMAs over K accumulate in place).
// Model: accsim.functional.lut.lut_dot_lmma (bit for bit: two's complement, AW-bit wrap).
// Timing (accsim.functional.lut.LUT_TIMING): a bit-plane sampled with in_valid at rising
// edge t is in `acc` after edge t+1 (latency 2: stage 1 lookup + sign + shift, stage 2
// accumulate); initiation interval 1 bit-plane per cycle; `out_valid` is high for one
// cycle with the accumulators after the bit-plane sampled with `last`.
// Ports: tables[(m*8 + e)*EW +: EW] entry e of row m (signed); wbits[4*j +: 4] column j;
// c and acc[(m*N + j)*AW +: AW] (signed). Reset: synchronous, active high, clears valid.
`timescale 1ns/1ps
module lut_dot #(
    parameter M  = 2,
    parameter N  = 4,
    parameter EW = 16,     // table entry width (int8 activations: 10 bits suffice; 16 stored)
    parameter AW = 32      // accumulator width
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                in_valid,
    input  wire                first,
    input  wire                last,
    input  wire [1:0]          bit_pos,
    input  wire [M*8*EW-1:0]   tables,
    input  wire [N*4-1:0]      wbits,
    input  wire [M*N*AW-1:0]   c,
    output reg                 out_valid,
    output wire [M*N*AW-1:0]   acc
);
    // ---- stage 1: lookup, sign, shift ----------------------------------------------------
    reg              s1_valid, s1_first, s1_last;
    reg [M*N*AW-1:0] s1_term, s1_c;
    wire [M*N*AW-1:0] term;
    genvar gm, gj;
    generate
        for (gm = 0; gm < M; gm = gm + 1) begin : g_row
            for (gj = 0; gj < N; gj = gj + 1) begin : g_col
                wire [3:0]          idx = wbits[4*gj +: 4];
                wire [2:0]          sel = idx[3:1] ^ {3{~idx[0]}};
                wire signed [EW-1:0] entry = tables[(gm*8 + {29'd0, sel})*EW +: EW];
                wire signed [AW-1:0] wide = {{(AW-EW){entry[EW-1]}}, entry};
                wire signed [AW-1:0] signed_entry = idx[0] ? wide : -wide;
                assign term[(gm*N + gj)*AW +: AW] = signed_entry <<< bit_pos;
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) s1_valid <= 1'b0;
        else s1_valid <= in_valid;
        s1_first <= first;
        s1_last <= last;
        s1_term <= term;
        s1_c <= c;
    end

    // ---- stage 2: accumulate ---------------------------------------------------------------
    reg [M*N*AW-1:0] acc_q;
    assign acc = acc_q;
    integer i;
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            acc_q <= {(M*N*AW){1'b0}};
        end else begin
            out_valid <= s1_valid && s1_last;
            if (s1_valid)
                for (i = 0; i < M*N; i = i + 1)
                    acc_q[i*AW +: AW] <= (s1_first ? s1_c[i*AW +: AW] : acc_q[i*AW +: AW]) + s1_term[i*AW +: AW];
        end
    end
endmodule
