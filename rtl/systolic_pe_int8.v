// systolic_pe_int8 -- INT8 weight-stationary systolic processing element.
//
// Function (one cycle, every rising edge of clk):
//   w_shift = 1 : w   <= w_in                       (weights shift down the column)
//   always      : a_out     <= a_in                   (activation pass-through, to the right)
//                 psum_out  <= psum_in + a_in * w     (partial sum, to the PE below)
//   mac = psum_in + a_in * w is also output combinationally, so the last row of an
//   array can write it straight into the output accumulator (see systolic_array_ws).
// Arithmetic: a_in, w are signed int8; psum_in, psum_out, mac are signed int32 and wrap
// modulo 2^32 (two's complement, no saturation) -- the model is
// accsim.functional.int8.pe_mac.
// Handshake: none (valid-free). The PE computes every cycle; the array controller feeds
// zeros where there is no data. Latency 1 cycle (a_in/psum_in sampled at edge t appear on
// a_out/psum_out after edge t), initiation interval 1 -- accsim.functional.timing.UNIT_TIMING
// ["systolic_pe_int8"].
// Reset: synchronous, active high; clears w, a_out and psum_out.
`timescale 1ns/1ps
module systolic_pe_int8 (
    input  wire               clk,
    input  wire               rst,
    input  wire               w_shift,
    input  wire signed [7:0]  w_in,
    output wire signed [7:0]  w_out,
    input  wire signed [7:0]  a_in,
    output reg  signed [7:0]  a_out,
    input  wire signed [31:0] psum_in,
    output reg  signed [31:0] psum_out,
    output wire signed [31:0] mac
);
    reg signed [7:0] w;
    wire signed [15:0] product = a_in * w;

    assign w_out = w;
    assign mac = psum_in + {{16{product[15]}}, product};

    always @(posedge clk) begin
        if (rst) begin
            w <= 8'sd0;
            a_out <= 8'sd0;
            psum_out <= 32'sd0;
        end else begin
            if (w_shift)
                w <= w_in;
            a_out <= a_in;
            psum_out <= mac;
        end
    end
endmodule
